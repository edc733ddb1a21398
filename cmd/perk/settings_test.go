package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// resolve parses args as perk serve would, with env as the environment and
// file (if not empty) as the --config file, and returns the settings by
// variable name.
func resolve(t *testing.T, args []string, env map[string]string, file string) (map[string]setting, error) {
	t.Helper()
	if file != "" {
		path := filepath.Join(t.TempDir(), "perk.conf")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"--config", path}, args...)
	}
	var c Config
	fs := flag.NewFlagSet("perk serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	serveFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	list, err := resolveSettings(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		return nil, err
	}
	byEnv := map[string]setting{}
	for _, s := range list {
		byEnv[s.Env] = s
	}
	return byEnv, nil
}

func TestSettings_FlagBeatsEnvironmentBeatsConfigFileBeatsDefault(t *testing.T) {
	const file = "# settings\nPERK_REGION=IE\nPERK_JOIN_RATE = 7\nPERK_PROGRAMME=\"Club Card\"\n" +
		"PERK_DEMO=true\nPERK_POINTS_PENDING=48h\n\n; a comment\nPERK_ADDR=10.0.0.1:8080\n"
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		file       string
		key        string
		value, src string
	}{
		{"default", nil, nil, "", "PERK_REGION", "GB", sourceDefault},
		{"config file over default", nil, nil, file, "PERK_REGION", "IE", "perk.conf:2"},
		{"spaces around name and value trimmed", nil, nil, file, "PERK_JOIN_RATE", "7", "perk.conf:3"},
		{"quotes around a value removed", nil, nil, file, "PERK_PROGRAMME", "Club Card", "perk.conf:4"},
		{"a bool", nil, nil, file, "PERK_DEMO", "true", "perk.conf:5"},
		{"a duration", nil, nil, file, "PERK_POINTS_PENDING", "48h0m0s", "perk.conf:6"},
		{"after blank and ; lines", nil, nil, file, "PERK_ADDR", "10.0.0.1:8080", "perk.conf:9"},
		{"environment over config file", nil, map[string]string{"PERK_REGION": "FR"}, file, "PERK_REGION", "FR", sourceEnv},
		{"flag over environment and config file", []string{"--region", "DE"}, map[string]string{"PERK_REGION": "FR"}, file, "PERK_REGION", "DE", sourceFlag},
		{"an empty string in the environment is a value", nil, map[string]string{"PERK_PROGRAMME": ""}, file, "PERK_PROGRAMME", "", sourceEnv},
		{"an empty number in the environment is unset", nil, map[string]string{"PERK_JOIN_RATE": ""}, file, "PERK_JOIN_RATE", "7", "perk.conf:3"},
		{"a false bool flag over the file", []string{"--demo=false"}, nil, file, "PERK_DEMO", "false", sourceFlag},
		{"--config beats PERK_CONFIG", nil, map[string]string{"PERK_CONFIG": "/nonexistent"}, file, "PERK_REGION", "IE", "perk.conf:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolve(t, tt.args, tt.env, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			s := got[tt.key]
			if s.Value != tt.value || !strings.HasSuffix(s.Source, tt.src) {
				t.Errorf("%s = %q from %q, want %q from %q", tt.key, s.Value, s.Source, tt.value, tt.src)
			}
		})
	}
}

func TestSettings_MistakesAreErrorsNotIgnored(t *testing.T) {
	tests := []struct {
		name, file string
		env        map[string]string
		want       []string
	}{
		{"a name perk serve lacks", "PERK_ADRR=:8080\n", nil, []string{"perk.conf:1: PERK_ADRR is not a setting of perk serve"}},
		{"another command's setting", "PERK_MART_KEY=00ff\n", nil, []string{"perk.conf:1: PERK_MART_KEY is not a setting of perk serve"}},
		{"a line without =", "PERK_DB=x.db\nPERK_REGION GB\n", nil, []string{"perk.conf:2: want PERK_NAME=VALUE"}},
		{"a name without PERK_", "DB=x.db\n", nil, []string{"perk.conf:1: want PERK_NAME=VALUE"}},
		{"a name twice", "PERK_DB=a.db\nPERK_DB=b.db\n", nil, []string{"perk.conf:2: PERK_DB is already set on line 1"}},
		{"another config file", "PERK_CONFIG=/etc/other.conf\n", nil, []string{"perk.conf:1: PERK_CONFIG cannot be set in a config file"}},
		{"every mistake at once", "PERK_ADRR=1\nPERK_DB=a\nPERK_DB=b\n", nil, []string{"PERK_ADRR", "already set"}},
		{"a number that is not", "PERK_JOIN_RATE=ten\n", nil, []string{`perk.conf:1: PERK_JOIN_RATE: invalid value "ten"`}},
		{"a bad number in the environment", "", map[string]string{"PERK_TILL_LOOKUP_RATE": "fast"}, []string{`PERK_TILL_LOOKUP_RATE: invalid value "fast"`}},
		{"a bad duration in the environment", "", map[string]string{"PERK_POINTS_EXPIRE": "1y"}, []string{`PERK_POINTS_EXPIRE: invalid value "1y"`}},
		{"a missing file", "", map[string]string{"PERK_CONFIG": "/nonexistent/perk.conf"}, []string{"config: open /nonexistent/perk.conf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolve(t, nil, tt.env, tt.file)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// Every setting perk serve has, and every one of the commands that share
// its settings, has a variable, so a config file can hold it.
func TestSettings_EveryServeFlagHasAVariable(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("perk serve", flag.ContinueOnError)
	serveFlags(fs, &c)
	fs.VisitAll(func(f *flag.Flag) {
		if flagEnv(f) == "" {
			t.Errorf("--%s has no PERK_* variable", f.Name)
		}
	})
}

// perk config print shows each setting with its source, and no password or
// secret however it was given.
func TestConfigPrint_ShowsSourcesAndRedactsSecrets(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "perk.conf")
	os.WriteFile(conf, []byte("PERK_DB=postgres://perk:dbpass1@db.internal:5432/perk?sslmode=require&password=dbpass2\n"+
		"PERK_SMS=smpp://perk:smscpass@smsc:2775?source=PERK\nPERK_REGION=IE\n"), 0o600)
	tests := []struct {
		name   string
		env    []string
		args   []string
		want   []string // lines, fields separated by single spaces
		absent []string
	}{
		{
			name: "secrets in the config file",
			env:  []string{"PERK_CONFIG=" + conf},
			want: []string{
				"PERK_DB --db postgres://perk:xxxxx@db.internal:5432/perk?password=xxxxx&sslmode=require " + conf + ":1",
				"PERK_SMS --sms smpp://perk:xxxxx@smsc:2775?source=PERK " + conf + ":2",
				"PERK_REGION --region IE " + conf + ":3",
				"PERK_CONFIG --config " + conf + " env",
				"PERK_ADDR --addr 127.0.0.1:8080 default",
			},
			absent: []string{"dbpass1", "dbpass2", "smscpass"},
		},
		{
			name: "secrets in the environment and flags",
			env:  []string{"PERK_CONFIG=" + conf, "PERK_SMS=kannel://perk:kpass@kannel:13013?secret=ksecret&from=PERK"},
			args: []string{"--db", "postgres://u:flagpass@db/perk", "--region", "DE"},
			want: []string{
				"PERK_DB --db postgres://u:xxxxx@db/perk flag",
				"PERK_SMS --sms kannel://perk:xxxxx@kannel:13013?from=PERK&secret=xxxxx env",
				"PERK_REGION --region DE flag",
			},
			absent: []string{"flagpass", "kpass", "ksecret", "dbpass1", "smscpass"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, err := perk(t, tt.env, append([]string{"config", "print"}, tt.args...)...)
			if err != nil {
				t.Fatalf("config print: %v\n%s", err, stderr)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(out, "\n") {
				lines[strings.Join(strings.Fields(l), " ")] = true
			}
			for _, w := range tt.want {
				if !lines[w] {
					t.Errorf("no line %q in:\n%s", w, out)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(out+stderr, a) {
					t.Errorf("output shows the secret %q:\n%s", a, out)
				}
			}
		})
	}
}

// Operator commands read the server's config file: perk migrate, given only
// --config, creates the database in the file's data folder.
func TestCLI_CommandsReadTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "perk.conf")
	os.WriteFile(conf, []byte("PERK_DATA_DIR="+filepath.Join(dir, "data")+"\nPERK_ADDR=127.0.0.1:1\nPERK_LOG_LEVEL=warn\n"), 0o600)
	if _, stderr, err := perk(t, nil, "migrate", "--config", conf); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "perk.db")); err != nil {
		t.Fatalf("the database is not in the config file's data folder: %v", err)
	}
}
