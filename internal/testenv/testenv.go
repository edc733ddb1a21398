// Package testenv decides whether a test that needs a real outside component
// (PostgreSQL, Chromium, zbarimg, an SMPP peer) runs, skips or fails: it runs
// when the component is configured, skips with the reason on a developer's
// machine, and fails under CI=true, where .ci/run provides everything.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where a missing
// component is a failure rather than a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Env returns the value of the environment variable that enables a component,
// skipping (or failing in CI) the test when it is unset.
func Env(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		missing(t, what+": set "+name+" to run this test")
	}
	return v
}

// Binary returns the path of an executable, taken from the environment
// variable name if set, else looked up on PATH as file; it skips (or fails
// in CI) when neither finds it.
func Binary(t testing.TB, name, file, what string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	p, err := exec.LookPath(file)
	if err != nil {
		missing(t, what+": "+file+" not found on PATH (install it or set "+name+")")
	}
	return p
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true but %s", msg)
	}
	t.Skip(msg)
}
