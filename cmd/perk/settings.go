package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Settings: every flag that has a PERK_* variable takes its value from, in
// order, the command line, the environment, the --config file (PERK_CONFIG)
// and its default. The config file holds PERK_NAME=VALUE lines, the same
// names as the environment, so a deployment can keep thirty settings out of
// its unit file and every operator command can read the server's.

// configEnv is the variable of --config; a config file cannot set it.
const configEnv = "PERK_CONFIG"

// Where a setting's value came from.
const (
	sourceFlag    = "flag"
	sourceEnv     = "env"
	sourceDefault = "default"
	// A value from the config file is sourced "FILE:LINE".
)

// envUsage appends a flag's variable to its usage, as -h shows it.
func envUsage(usage, env string) string { return usage + " [" + env + "]" }

var envSuffix = regexp.MustCompile(` \[(PERK_[A-Z0-9_]+)\]$`)

// flagEnv is the PERK_* variable of a flag registered by strFlag and its
// kin, or "" for a flag that has none.
func flagEnv(f *flag.Flag) string {
	if m := envSuffix.FindStringSubmatch(f.Usage); m != nil {
		return m[1]
	}
	return ""
}

// setting is one flag's effective value and where it came from.
type setting struct {
	Env, Flag, Value, Source string
}

// resolveSettings runs after fs.Parse: every flag with a variable that the
// command line did not set takes the environment's value, or else the
// config file's. It returns each such flag's value and source. An empty
// value of a number, duration or true/false flag counts as unset; a value
// that does not parse is an error, not ignored.
func resolveSettings(fs *flag.FlagSet, lookupEnv func(string) (string, bool)) ([]setting, error) {
	source := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		if flagEnv(f) != "" {
			source[f.Name] = sourceFlag
		}
	})
	var errs []error
	set := func(f *flag.Flag, v, src, where string) {
		if v == "" && !isStringFlag(f) {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s%s: invalid value %q: %v", where, flagEnv(f), v, err))
			return
		}
		source[f.Name] = src
	}
	fs.VisitAll(func(f *flag.Flag) {
		if env := flagEnv(f); env != "" && source[f.Name] == "" {
			if v, ok := lookupEnv(env); ok {
				set(f, v, sourceEnv, "")
			}
		}
	})
	if f := fs.Lookup("config"); f != nil && f.Value.String() != "" {
		path := f.Value.String()
		file, err := readConfigFile(path)
		if err != nil {
			return nil, errors.Join(append(errs, err)...)
		}
		fs.VisitAll(func(f *flag.Flag) {
			if cv, ok := file[flagEnv(f)]; ok && source[f.Name] == "" {
				where := fmt.Sprintf("%s:%d", path, cv.line)
				set(f, cv.value, where, where+": ")
			}
		})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var out []setting
	fs.VisitAll(func(f *flag.Flag) {
		if env := flagEnv(f); env != "" {
			src := source[f.Name]
			if src == "" {
				src = sourceDefault
			}
			out = append(out, setting{Env: env, Flag: f.Name, Value: f.Value.String(), Source: src})
		}
	})
	return out, nil
}

func isStringFlag(f *flag.Flag) bool {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	_, ok = g.Get().(string)
	return ok
}

type configValue struct {
	value string
	line  int
}

var configKey = regexp.MustCompile(`^PERK_[A-Z0-9_]+$`)

// readConfigFile reads a config file: PERK_NAME=VALUE lines; blank lines and
// lines starting with # or ; are ignored; spaces around the name and the
// value are trimmed, and one pair of quotes around the whole value removed
// (so that a simple systemd EnvironmentFile reads the same). Each name must
// be a setting of perk serve, given once.
func readConfigFile(path string) (map[string]configValue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return parseConfig(f, path)
}

func parseConfig(r io.Reader, path string) (map[string]configValue, error) {
	known := serveSettings()
	values := map[string]configValue{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var errs []error
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		where := fmt.Sprintf("%s:%d", path, n)
		switch {
		case !ok || !configKey.MatchString(key):
			errs = append(errs, fmt.Errorf("%s: want PERK_NAME=VALUE", where))
		case key == configEnv:
			errs = append(errs, fmt.Errorf("%s: %s cannot be set in a config file", where, configEnv))
		case !known[key]:
			errs = append(errs, fmt.Errorf("%s: %s is not a setting of perk serve", where, key))
		case values[key].line != 0:
			errs = append(errs, fmt.Errorf("%s: %s is already set on line %d", where, key, values[key].line))
		default:
			values[key] = configValue{value: value, line: n}
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("config %s: %w", path, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return values, nil
}

// serveSettings is the set of variables perk serve reads: the names a
// config file may hold.
func serveSettings() map[string]bool {
	var c Config
	fs := flag.NewFlagSet("perk serve", flag.ContinueOnError)
	serveFlags(fs, &c)
	names := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		if env := flagEnv(f); env != "" && env != configEnv {
			names[env] = true
		}
	})
	return names
}

// secretSettings hide what must not be printed: the database password, the
// SMS gateway's password and shared secret.
var secretSettings = map[string]func(string) string{
	"PERK_DB":  redactDSN,
	"PERK_SMS": redactDSN,
}

func redactDSN(v string) string {
	if !strings.Contains(v, "://") {
		return v // a SQLite path, sim or none
	}
	return redactURL(v)
}

// redacted is a setting's value fit to print.
func (s setting) redacted() string {
	if r := secretSettings[s.Env]; r != nil {
		return r(s.Value)
	}
	return s.Value
}

const configUsage = `usage: perk config print [--config FILE] [serve flags]
Prints the settings perk serve would run with, each with its source (flag,
env, FILE:LINE or default); passwords and secrets are redacted.`

func cmdConfig(_ context.Context, args []string) error {
	if len(args) == 0 || args[0] != "print" {
		fmt.Fprintln(os.Stderr, configUsage)
		return errUsage
	}
	var c Config
	fs := flag.NewFlagSet("perk config print", flag.ContinueOnError)
	serveFlags(fs, &c)
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(interspersed(fs, args[1:])); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, configUsage)
		return errUsage
	}
	settings, err := resolveSettings(fs, os.LookupEnv)
	if err != nil {
		return err
	}
	return printSettings(os.Stdout, settings)
}

func printSettings(w io.Writer, settings []setting) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tFLAG\tVALUE\tSOURCE")
	for _, s := range settings {
		v := s.redacted()
		if v == "" || strings.ContainsAny(v, " \t\"'") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(tw, "%s\t--%s\t%s\t%s\n", s.Env, s.Flag, v, s.Source)
	}
	return tw.Flush()
}
