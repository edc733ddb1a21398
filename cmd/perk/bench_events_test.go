package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/store"
)

// perk bench events against the real server, with a public ingest key as a
// web page would use: every batch it reports is stored (plus the probe's),
// and the CPU it reads is the server's and, on PostgreSQL, its backends'.
func TestBenchEvents_AgainstTheRealServer(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			db := dsn(t)
			env := []string{"PERK_DB=" + db, "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn"}
			key, stderr, err := perk(t, env, "keys", "create", "--role", "ingest", "--name", "site")
			if err != nil {
				t.Fatalf("keys create: %v\n%s", err, stderr)
			}
			cmd := exec.Command(perkBin, "serve", "--addr", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), append(env, "PERK_SMS=sim", "PERK_LOG_LEVEL=info")...) // serveCmd reads the address from the log
			url, _ := serveCmd(t, cmd)
			args := []string{"bench", "events", "--url", url, "--key", strings.TrimSpace(key), "-c", "2", "-n", "6", "-d", "1m",
				"--batch", "250", "--people", "40", "--seed", "5", "--server-pid", strconv.Itoa(cmd.Process.Pid), "--json"}
			if name == "postgres" {
				args = append(args, "--db", db)
			}
			out, stderr, err := perk(t, nil, args...)
			if err != nil {
				t.Fatalf("bench events: %v\n%s", err, stderr)
			}
			var res struct {
				Requests   int            `json:"requests"`
				Errors     int            `json:"errors"`
				Status     map[string]int `json:"status"`
				Events     int            `json:"events"`
				PerSecond  float64        `json:"events_per_s"`
				ServerCPU  float64        `json:"server_cpu_us_per_event"`
				BackendCPU float64        `json:"backend_cpu_us_per_event"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("output %q: %v", out, err)
			}
			if res.Requests != 6 || res.Errors != 0 || res.Status["200"] != 6 || res.Events != 1500 || res.PerSecond <= 0 {
				t.Fatalf("bench events: %s", out)
			}
			if res.ServerCPU <= 0 || (name == "postgres") != (res.BackendCPU > 0) {
				t.Errorf("CPU per event: server %v µs, backends %v µs", res.ServerCPU, res.BackendCPU)
			}
			st, err := store.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var stored int
			if err := st.R.QueryRow(`SELECT COUNT(*) FROM events WHERE event_id LIKE 'bench-%'`).Scan(&stored); err != nil || stored != 1500+250 {
				t.Errorf("%d bench events stored (%v), want 1,500 measured + 250 of the probe", stored, err)
			}
		})
	}
}

func TestBenchEvents_UsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--batch", "1001"}, {"--batch", "0"}, {"-c", "0"}} {
		_, stderr, err := perk(t, nil, append([]string{"bench", "events", "--url", "http://127.0.0.1:1"}, args...)...)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit status 2 (usage)\n%s", args, err, stderr)
		}
	}
}
