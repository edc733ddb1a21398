package main

import (
	"bytes"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildOf_ReadsTheVersionAndTheVCSStamp(t *testing.T) {
	stamp := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want build
	}{
		{"a release built from a clean clone",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"},
				Settings: stamp("vcs", "git", "vcs.revision", "0123456789abcdef0123456789abcdef01234567", "vcs.time", "2026-11-20T10:00:00Z", "vcs.modified", "false")},
			true, build{"v1.4.0", "0123456789abcdef0123456789abcdef01234567", "false", "2026-11-20T10:00:00Z", "go1.26.8"}},
		{"a build with uncommitted changes says so",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.1-0.20261120100000-0123456789ab+dirty"},
				Settings: stamp("vcs.revision", "0123456789abcdef0123456789abcdef01234567", "vcs.modified", "true")},
			true, build{"v1.4.1-0.20261120100000-0123456789ab+dirty", "0123456789abcdef0123456789abcdef01234567", "true", unknown, "go1.26.8"}},
		{"without a VCS stamp (a worktree, -buildvcs=false) the commit is unknown",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: stamp("-buildmode", "exe")},
			true, build{"(devel)", unknown, unknown, unknown, "go1.26.8"}},
		{"without build information everything is unknown", nil, false, build{unknown, unknown, unknown, unknown, unknown}},
	}
	for _, tt := range tests {
		if got := buildOf(tt.bi, tt.ok); got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

// TestCLI_VersionSaysWhatGoStampedIntoTheBinary checks `perk version`
// against `go version -m`, which reads the same stamp from the outside.
func TestCLI_VersionSaysWhatGoStampedIntoTheBinary(t *testing.T) {
	out, stderr, err := perk(t, nil, "version")
	if err != nil {
		t.Fatalf("perk version: %v\n%s", err, stderr)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, " ")
		got[k] = strings.TrimSpace(v)
	}
	var gomod bytes.Buffer
	cmd := exec.Command("go", "version", "-m", perkBin)
	cmd.Stdout = &gomod
	if err := cmd.Run(); err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	want := map[string]string{"version": unknown, "commit": unknown, "modified": unknown, "time": unknown, "go": unknown}
	for i, line := range strings.Split(gomod.String(), "\n") {
		f := strings.Fields(line)
		switch {
		case i == 0 && len(f) == 2:
			want["go"] = f[1] // "/path/perk: go1.26.8"
		case len(f) >= 3 && f[0] == "mod":
			want["version"] = f[2]
		case len(f) == 2 && f[0] == "build":
			k, v, _ := strings.Cut(f[1], "=")
			switch k {
			case "vcs.revision":
				want["commit"] = v
			case "vcs.modified":
				want["modified"] = v
			case "vcs.time":
				want["time"] = v
			}
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("perk version says %s %q, go version -m says %q\n%s", k, got[k], v, out)
		}
	}
	if _, _, err := perk(t, nil, "version", "extra"); err == nil {
		t.Errorf("perk version with an argument succeeded")
	}
}
