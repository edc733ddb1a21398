package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The deployment files (Dockerfile, deploy/, docs/deploy.md) are checked
// here, against the binary they deploy: their flags must exist, their
// commands must run.

const repoRoot = "../.."

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// helpFlags returns the flag names "perk ARGS -h" lists.
func helpFlags(t *testing.T, args ...string) map[string]bool {
	t.Helper()
	_, stderr, _ := perk(t, nil, append(args, "-h")...)
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -(\S+)`).FindAllStringSubmatch(stderr, -1) {
		flags[m[1]] = true
	}
	if len(flags) == 0 {
		t.Fatalf("perk %v -h lists no flags:\n%s", args, stderr)
	}
	return flags
}

// checkFlags reports every -flag or --flag=value in args that is not in flags.
func checkFlags(t *testing.T, what string, args []string, flags map[string]bool) {
	t.Helper()
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !flags[name] {
			t.Errorf("%s: %s is not a flag of perk", what, a)
		}
	}
}

// dockerInstr is one Dockerfile instruction, continuation lines joined.
type dockerInstr struct {
	Line int
	Cmd  string // upper case
	Args string
}

func parseDockerfile(src string) ([]dockerInstr, error) {
	var out []dockerInstr
	var cur *dockerInstr
	for i, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue // comments may sit inside a continued instruction too
		}
		cont := strings.HasSuffix(trimmed, `\`)
		trimmed = strings.TrimSpace(strings.TrimSuffix(trimmed, `\`))
		if cur == nil {
			cmd, args, _ := strings.Cut(trimmed, " ")
			cur = &dockerInstr{Line: i + 1, Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		} else {
			cur.Args += " " + trimmed
		}
		if !cont {
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: continued past the end of the file", cur.Line)
	}
	return out, nil
}

// execForm parses the JSON (exec) form of CMD, ENTRYPOINT or VOLUME.
func execForm(t *testing.T, in dockerInstr) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(in.Args), &argv); err != nil {
		t.Errorf("Dockerfile:%d: %s is not in the JSON form (%v); the shell form needs a shell, which distroless lacks", in.Line, in.Cmd, err)
	}
	return argv
}

func TestDockerfile_BuildsAStaticBinaryAndRunsPerkServeAsNonRoot(t *testing.T) {
	instrs, err := parseDockerfile(readRepoFile(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"FROM": true, "RUN": true, "CMD": true, "LABEL": true, "EXPOSE": true, "ENV": true, "ADD": true,
		"COPY": true, "ENTRYPOINT": true, "VOLUME": true, "USER": true, "WORKDIR": true, "ARG": true, "ONBUILD": true,
		"STOPSIGNAL": true, "HEALTHCHECK": true, "SHELL": true}
	type stage struct {
		name   string
		instrs []dockerInstr
	}
	var stages []*stage
	for _, in := range instrs {
		if !known[in.Cmd] {
			t.Errorf("Dockerfile:%d: unknown instruction %s", in.Line, in.Cmd)
		}
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			s := &stage{name: strconv.Itoa(len(stages))}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			} else if len(f) != 1 {
				t.Errorf("Dockerfile:%d: FROM %s: want IMAGE [AS NAME]", in.Line, in.Args)
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			if in.Cmd != "ARG" {
				t.Errorf("Dockerfile:%d: %s before the first FROM", in.Line, in.Cmd)
			}
			continue
		}
		cur := stages[len(stages)-1]
		if m := regexp.MustCompile(`--from=(\S+)`).FindStringSubmatch(in.Args); m != nil && in.Cmd == "COPY" {
			if !slices.ContainsFunc(stages[:len(stages)-1], func(s *stage) bool { return s.name == m[1] }) {
				t.Errorf("Dockerfile:%d: COPY --from=%s names no earlier stage", in.Line, m[1])
			}
		}
		cur.instrs = append(cur.instrs, in)
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages; want a build stage and a run stage", len(stages))
	}

	built := false
	for _, in := range stages[0].instrs {
		if in.Cmd == "RUN" && strings.Contains(in.Args, "CGO_ENABLED=0") && strings.Contains(in.Args, "go build") && strings.Contains(in.Args, "./cmd/perk") {
			built = true
		}
	}
	if !built {
		t.Error("the build stage does not RUN CGO_ENABLED=0 go build ... ./cmd/perk")
	}

	final := stages[len(stages)-1]
	var user string
	var entrypoint, cmd, volumes, copied []string
	env := map[string]string{}
	exposed := map[string]bool{}
	for _, in := range final.instrs {
		switch in.Cmd {
		case "USER":
			user = in.Args
		case "RUN":
			if regexp.MustCompile(`\b(curl|wget)\b`).MatchString(in.Args) {
				t.Errorf("Dockerfile:%d: the run stage fetches with %s", in.Line, in.Args)
			}
		case "ADD":
			if strings.Contains(in.Args, "://") {
				t.Errorf("Dockerfile:%d: the run stage ADDs from the network", in.Line)
			}
		case "COPY":
			f := strings.Fields(in.Args)
			copied = append(copied, f[len(f)-1])
		case "ENV":
			for _, kv := range strings.Fields(in.Args) {
				if k, v, ok := strings.Cut(kv, "="); ok {
					env[k] = v
				}
			}
		case "EXPOSE":
			for _, p := range strings.Fields(in.Args) {
				exposed[strings.TrimSuffix(p, "/tcp")] = true
			}
		case "VOLUME":
			volumes = append(volumes, execForm(t, in)...)
		case "ENTRYPOINT":
			entrypoint = execForm(t, in)
		case "CMD":
			cmd = execForm(t, in)
		}
	}
	if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
		t.Errorf("the run stage's USER is %q; want a user that is not root", user)
	}
	argv := append(entrypoint, cmd...)
	if len(argv) < 2 || filepath.Base(argv[0]) != "perk" || argv[1] != "serve" {
		t.Fatalf("ENTRYPOINT + CMD = %q; want perk serve ...", argv)
	}
	if !slices.Contains(copied, argv[0]) {
		t.Errorf("nothing is copied to %s, the ENTRYPOINT", argv[0])
	}
	checkFlags(t, "Dockerfile CMD", argv[2:], helpFlags(t, "serve"))
	addr := ""
	for i, a := range argv {
		if a == "--addr" && i+1 < len(argv) {
			addr = argv[i+1]
		}
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || !exposed[port] {
		t.Errorf("perk serve --addr %q, EXPOSE %v: the port is not exposed", addr, exposed)
	}
	if dir := env["PERK_DATA_DIR"]; dir == "" || !slices.Contains(volumes, dir) {
		t.Errorf("PERK_DATA_DIR=%q, VOLUME %q: the data folder is not a volume", dir, volumes)
	}

	// The build context keeps what go build needs and leaves out the rest.
	var ignore []string
	for _, l := range strings.Split(readRepoFile(t, ".dockerignore"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ignore = append(ignore, strings.TrimPrefix(strings.TrimSuffix(l, "/"), "/"))
		}
	}
	ignored := func(name string) bool {
		return slices.ContainsFunc(ignore, func(p string) bool { ok, _ := filepath.Match(p, name); return ok })
	}
	for _, name := range []string{".git", "data"} {
		if !ignored(name) {
			t.Errorf(".dockerignore does not leave out %s", name)
		}
	}
	for _, name := range []string{"go.mod", "go.sum", "cmd", "internal"} {
		if ignored(name) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", name)
		}
	}
}

// unitFile is a systemd unit: section -> key -> values in order.
type unitFile map[string]map[string][]string

func parseUnit(src string) (unitFile, error) {
	u := unitFile{}
	var section, pending string
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if pending == "" && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: bad section %q", i+1, line)
			}
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section == "" || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("line %d: want KEY=VALUE in a [Section], got %q", i+1, line)
		}
		k = strings.TrimSpace(k)
		u[section][k] = append(u[section][k], strings.TrimSpace(v))
	}
	return u, nil
}

// get is the last value of a key, as systemd reads single-valued keys.
func (u unitFile) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// systemdSpan parses a systemd time span: "45s", "1min 30s", "90" (seconds).
func systemdSpan(s string) (time.Duration, error) {
	units := map[string]time.Duration{"": time.Second, "ms": time.Millisecond, "s": time.Second, "sec": time.Second,
		"second": time.Second, "seconds": time.Second, "m": time.Minute, "min": time.Minute, "minute": time.Minute,
		"minutes": time.Minute, "h": time.Hour, "hr": time.Hour, "hour": time.Hour, "hours": time.Hour}
	parts := regexp.MustCompile(`(\d+)\s*([a-z]*)`).FindAllStringSubmatch(s, -1)
	if len(parts) == 0 || strings.TrimSpace(regexp.MustCompile(`(\d+)\s*([a-z]*)`).ReplaceAllString(s, "")) != "" {
		return 0, fmt.Errorf("bad time span %q", s)
	}
	var d time.Duration
	for _, p := range parts {
		n, _ := strconv.Atoi(p[1])
		unit, ok := units[p[2]]
		if !ok {
			return 0, fmt.Errorf("bad unit in time span %q", s)
		}
		d += time.Duration(n) * unit
	}
	return d, nil
}

func TestSystemdUnits_RunPerkHardenedWithFlagsThatExist(t *testing.T) {
	units := map[string]unitFile{}
	for _, name := range []string{"perk.service", "perk-backup.service", "perk-backup.timer"} {
		u, err := parseUnit(readRepoFile(t, "deploy/"+name))
		if err != nil {
			t.Fatalf("deploy/%s: %v", name, err)
		}
		units[name] = u
	}
	// The unit's --config is deploy/perk.conf once installed.
	conf, err := readConfigFile(filepath.Join(repoRoot, "deploy/perk.conf"))
	if err != nil {
		t.Fatalf("deploy/perk.conf: %v", err)
	}
	dataDir := conf["PERK_DATA_DIR"].value
	if dataDir == "" {
		t.Fatal("deploy/perk.conf sets no PERK_DATA_DIR")
	}

	serve := units["perk.service"]
	for _, s := range []string{"Unit", "Service", "Install"} {
		if serve[s] == nil {
			t.Errorf("perk.service has no [%s]", s)
		}
	}
	backup := units["perk-backup.service"]
	type want struct{ unit, section, key, value string }
	for _, w := range []want{
		{"perk.service", "Service", "Restart", "on-failure"},
		{"perk.service", "Service", "NoNewPrivileges", "yes"},
		{"perk.service", "Service", "ProtectSystem", "strict"},
		{"perk.service", "Service", "EnvironmentFile", "-/etc/perk/perk.env"},
		{"perk.service", "Install", "WantedBy", "multi-user.target"},
		{"perk-backup.service", "Service", "Type", "oneshot"},
		{"perk-backup.service", "Service", "NoNewPrivileges", "yes"},
		{"perk-backup.service", "Service", "ProtectSystem", "strict"},
		{"perk-backup.service", "Service", "User", serve.get("Service", "User")},
		{"perk-backup.timer", "Timer", "Persistent", "true"},
		{"perk-backup.timer", "Install", "WantedBy", "timers.target"},
	} {
		if got := units[w.unit].get(w.section, w.key); got != w.value {
			t.Errorf("%s: [%s] %s=%q, want %q", w.unit, w.section, w.key, got, w.value)
		}
	}
	if u := serve.get("Service", "User"); u == "" || u == "root" || u == "0" {
		t.Errorf("perk.service runs as %q; want a user of its own", u)
	}
	if units["perk-backup.timer"].get("Timer", "OnCalendar") == "" {
		t.Error("perk-backup.timer has no OnCalendar")
	}
	stop, err := systemdSpan(serve.get("Service", "TimeoutStopSec"))
	if err != nil || stop <= shutdownGrace {
		t.Errorf("perk.service TimeoutStopSec=%q (%v): want more than perk serve's %v drain", serve.get("Service", "TimeoutStopSec"), err, shutdownGrace)
	}

	writable := func(u unitFile) []string {
		var paths []string
		for _, v := range u["Service"]["ReadWritePaths"] {
			paths = append(paths, strings.Fields(v)...)
		}
		return paths
	}
	execStart := func(u unitFile, name, sub string) []string {
		argv := strings.Fields(u.get("Service", "ExecStart"))
		if len(argv) < 2 || argv[0] != "/usr/local/bin/perk" || argv[1] != sub {
			t.Fatalf("%s: ExecStart=%q; want /usr/local/bin/perk %s ...", name, argv, sub)
		}
		checkFlags(t, name+" ExecStart", argv[2:], helpFlags(t, sub))
		if !slices.Contains(argv, "/etc/perk/perk.conf") {
			t.Errorf("%s: ExecStart does not read /etc/perk/perk.conf", name)
		}
		return argv
	}
	execStart(serve, "perk.service", "serve")
	if !slices.Contains(writable(serve), dataDir) {
		t.Errorf("perk.service: ReadWritePaths=%v lacks the data folder %s", writable(serve), dataDir)
	}
	argv := execStart(backup, "perk-backup.service", "backup")
	out := argv[slices.Index(argv, "--out")+1]
	for _, dir := range []string{dataDir, filepath.Clean(out)} {
		if !slices.Contains(writable(backup), dir) {
			t.Errorf("perk-backup.service: ReadWritePaths=%v lacks %s", writable(backup), dir)
		}
	}

	// systemd's own check, where it is installed: unknown keys, bad values.
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not found: the units are not verified by systemd")
		return
	}
	dir := t.TempDir()
	var paths []string
	for name := range units {
		src := strings.ReplaceAll(readRepoFile(t, "deploy/"+name), "/usr/local/bin/perk", perkBin)
		paths = append(paths, filepath.Join(dir, name))
		os.WriteFile(paths[len(paths)-1], []byte(src), 0o644)
	}
	verify := exec.Command(analyze, append([]string{"verify"}, paths...)...)
	outb, _ := verify.CombinedOutput()
	for _, line := range strings.Split(string(outb), "\n") {
		if strings.HasPrefix(line, dir) || regexp.MustCompile(`^perk(-backup)?\.(service|timer)\b`).MatchString(line) {
			t.Errorf("systemd-analyze verify: %s", line)
		} else if line != "" {
			t.Logf("systemd-analyze verify: %s", line)
		}
	}
}
