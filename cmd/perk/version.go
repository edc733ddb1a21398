package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// build describes the binary from what the Go toolchain stamped into it.
// A binary built outside a git clone, from a git worktree, or with
// -buildvcs=false has no VCS stamp: its commit is then "unknown".
type build struct {
	Version  string // the main module's version: a tag, a pseudo-version or (devel)
	Revision string // vcs.revision, the commit
	Modified string // vcs.modified: true if the tree had uncommitted changes
	Time     string // vcs.time, the commit's time
	Go       string // the toolchain
}

const unknown = "unknown"

// buildOf reads bi (ok false: the binary has no build information).
func buildOf(bi *debug.BuildInfo, ok bool) build {
	b := build{Version: unknown, Revision: unknown, Modified: unknown, Time: unknown, Go: unknown}
	if !ok || bi == nil {
		return b
	}
	if bi.Main.Version != "" {
		b.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		b.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Modified = s.Value
		case "vcs.time":
			b.Time = s.Value
		}
	}
	return b
}

// thisBuild describes the running binary.
func thisBuild() build { return buildOf(debug.ReadBuildInfo()) }

// write prints the build as `perk version` does: one "key value" line each.
func (b build) write(w io.Writer) {
	fmt.Fprintf(w, "version  %s\ncommit   %s\nmodified %s\ntime     %s\ngo       %s\n", b.Version, b.Revision, b.Modified, b.Time, b.Go)
}

// collector is perk_build_info: always 1, the build in its labels, so a
// dashboard shows which build each instance runs.
func (b build) collector() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "perk_build_info", Help: "Always 1; the labels name the running build (version, revision, modified, goversion).",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "modified": b.Modified, "goversion": b.Go},
	})
	g.Set(1)
	return g
}

func cmdVersion(args []string) error {
	if len(args) > 0 {
		fmt.Fprintln(os.Stderr, "usage: perk version")
		return errUsage
	}
	thisBuild().write(os.Stdout)
	return nil
}
