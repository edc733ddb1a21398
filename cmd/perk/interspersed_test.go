package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestInterspersed_FlagsAfterPositionalsComeFirst(t *testing.T) {
	newFS := func() *flag.FlagSet {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.String("data-dir", "", "")
		fs.String("o", "", "")
		fs.Bool("launch", false, "")
		return fs
	}
	for _, tt := range []struct {
		name string
		in   []string
		want []string
	}{
		{"flags first stay", []string{"--data-dir", "D", "FILE"}, []string{"--data-dir", "D", "--", "FILE"}},
		{"a flag and its value after the file", []string{"FILE", "--data-dir", "D"}, []string{"--data-dir", "D", "--", "FILE"}},
		{"flag=value", []string{"FILE", "--data-dir=D"}, []string{"--data-dir=D", "--", "FILE"}},
		{"a bool flag takes no value", []string{"get", "--launch", "NAME", "-o", "yaml"}, []string{"--launch", "-o", "yaml", "--", "get", "NAME"}},
		{"a value that looks like a flag", []string{"FILE", "--data-dir", "-weird"}, []string{"--data-dir", "-weird", "--", "FILE"}},
		{"everything after -- is positional", []string{"--data-dir", "D", "--", "-5", "--launch"}, []string{"--data-dir", "D", "--", "-5", "--launch"}},
		{"a lone dash is positional (stdin)", []string{"-", "--launch"}, []string{"--launch", "--", "-"}},
		{"an unknown flag stays for Parse to refuse", []string{"FILE", "--nope", "X"}, []string{"--nope", "--", "FILE", "X"}},
		{"a missing value stays last for Parse to refuse", []string{"FILE", "--data-dir"}, []string{"--data-dir"}},
		{"no positionals", []string{"--launch"}, []string{"--launch"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := interspersed(newFS(), tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("interspersed(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// What users copy from the docs puts flags after the file or the text.
func TestCLI_FlagsAfterPositionalArguments(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "members.csv")
	if err := os.WriteFile(file, []byte("phone,first_name\n07400 100001,Ann\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	env := []string{"PERK_LOG_LEVEL=warn"}
	for _, tt := range []struct {
		name  string
		args  []string
		usage bool   // a usage error (exit status 2)
		want  string // in stderr
	}{
		{"import with flags after the file", []string{"members", "import", file, "--data-dir", data, "--source", "crm"}, false, "1 created"},
		{"keys with flags after the subcommand", []string{"keys", "create", "--data-dir=" + data, "--role", "manager"}, false, "created manager key"},
		{"sms text then flags", []string{"sms", "inject", "--from", "07400 100002", "JOIN", "Bob", "--data-dir", data}, false, ""},
		{"-- ends the flags", []string{"members", "import", "--data-dir", data, "--", "--no-such-file"}, false, "--no-such-file"},
		{"an unknown flag after the file", []string{"members", "import", file, "--nope"}, true, "flag provided but not defined: -nope"},
		{"a flag without its value", []string{"members", "import", file, "--data-dir"}, true, "flag needs an argument: -data-dir"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := perk(t, env, tt.args...)
			var exit *exec.ExitError
			switch {
			case tt.usage && (!errors.As(err, &exit) || exit.ExitCode() != 2):
				t.Errorf("perk %q: %v, want a usage error\n%s", tt.args, err, stderr)
			case !tt.usage && tt.name != "-- ends the flags" && err != nil:
				t.Errorf("perk %q: %v\n%s", tt.args, err, stderr)
			case !tt.usage && tt.name == "-- ends the flags" && (err == nil || errors.As(err, &exit) && exit.ExitCode() == 2):
				t.Errorf("perk %q: %v, want the file not found\n%s", tt.args, err, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("perk %q: stderr lacks %q:\n%s", tt.args, tt.want, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(data, "perk.db")); err != nil {
		t.Errorf("--data-dir after the file was not used: %v", err)
	}
}
