package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/mart"
	"github.com/perk-platform/perk/internal/store"
)

func TestCLI_ExportMart(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "perk.db")
	env := []string{"PERK_DB=" + dsn, "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn"}
	file := filepath.Join(dir, "members.csv")
	os.WriteFile(file, []byte("phone,first_name,last_name,tags\n07400 100001,Annabel,Quince,vip\n07400 100002,Bartholomew,Rook,\n"), 0o644)
	if _, stderr, err := perk(t, env, "members", "import", file); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	for _, in := range [][]string{{"07400100003", "JOIN Cleopatra"}, {"07400100003", "STOP"}, {"07400100001", "HELP"}} {
		if _, stderr, err := perk(t, env, "sms", "inject", "--from", in[0], in[1]); err != nil {
			t.Fatalf("sms inject %v: %v\n%s", in, err, stderr)
		}
	}
	const key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

	for _, format := range []string{"csv", "parquet"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(dir, "mart-"+format)
			stdout, stderr, err := perk(t, append(env, "PERK_MART_KEY="+key), "export", "mart", "--out", out, "--format", format)
			if err != nil {
				t.Fatalf("export: %v\n%s", err, stderr)
			}
			raw, err := os.ReadFile(filepath.Join(out, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			var m mart.Manifest
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			want := sourceCounts(t, dsn)
			if len(m.Tables) != len(mart.Tables) || m.Format != format {
				t.Fatalf("manifest: %s", raw)
			}
			for _, ti := range m.Tables {
				if w, ok := want[ti.Name]; ok && ti.Rows != w {
					t.Errorf("%s: %d rows, want %d", ti.Name, ti.Rows, w)
				}
				b, err := os.ReadFile(filepath.Join(out, ti.File))
				if err != nil || int64(len(b)) != ti.Bytes {
					t.Errorf("%s: %d bytes on disk, manifest says %d (%v)", ti.File, len(b), ti.Bytes, err)
				}
				for _, secret := range []string{"7400100001", "7400100003", "Annabel", "Cleopatra", "Quince"} {
					if strings.Contains(string(b), secret) {
						t.Errorf("%s holds %q", ti.File, secret)
					}
				}
				if !strings.Contains(stdout, ti.Name) {
					t.Errorf("summary does not name %s:\n%s", ti.Name, stdout)
				}
			}
			if want["dim_member"] != 3 || want["fact_response"] < 4 || want["fact_contact"] < 2 {
				t.Errorf("the data set is thinner than the test means: %v", want)
			}
			left, _ := filepath.Glob(filepath.Join(out, ".*"))
			if len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}

	// Incremental from a date in the future: no facts, whole dimensions.
	out := filepath.Join(dir, "mart-since")
	if _, stderr, err := perk(t, env, "export", "mart", "--out", out, "--since", "2999-01-01", "--pseudonym-key", key); err != nil {
		t.Fatalf("export --since: %v\n%s", err, stderr)
	}
	raw, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	var m mart.Manifest
	json.Unmarshal(raw, &m)
	for _, ti := range m.Tables {
		if ti.Fact && ti.Rows != 0 || ti.Name == "dim_member" && ti.Rows != 3 {
			t.Errorf("--since 2999-01-01: %s has %d rows", ti.Name, ti.Rows)
		}
	}
	if m.Since == nil || m.Since.Year() != 2999 {
		t.Errorf("manifest since %v", m.Since)
	}

	for _, c := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"bad since", []string{"PERK_MART_KEY=" + key}, []string{"--since", "last tuesday"}, `--since "last tuesday" is not a date`},
		{"missing key", nil, nil, "a pseudonym key is required"},
		{"short key", []string{"PERK_MART_KEY=abcd"}, nil, "needs at least 16"},
		{"bad format", []string{"PERK_MART_KEY=" + key}, []string{"--format", "xlsx"}, "--format must be csv or parquet"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"export", "mart", "--out", out}, c.args...)
			_, stderr, err := perk(t, append(env, c.env...), args...)
			if err == nil || !strings.Contains(stderr, c.want) {
				t.Errorf("err %v, stderr %q, want %q", err, stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a refused export created %s", out)
			}
		})
	}
	if _, _, err := perk(t, env, "export", "mart"); err == nil {
		t.Errorf("export mart without --out succeeded")
	}
}

// sourceCounts counts the rows each table of the mart comes from.
func sourceCounts(t *testing.T, dsn string) map[string]int64 {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]int64{}
	for name, q := range map[string]string{
		"fact_contact": `SELECT COUNT(*) FROM sms_outbox`,
		"fact_response": `SELECT (SELECT COUNT(*) FROM link_clicks) + (SELECT COUNT(*) FROM sms_inbox) +
			(SELECT COUNT(*) FROM redemptions) + (SELECT COUNT(*) FROM consents WHERE action = 'withdrawn')`,
		"fact_transaction": `SELECT COUNT(*) FROM baskets`,
		"dim_member":       `SELECT COUNT(*) FROM members`,
		"dim_campaign":     `SELECT COUNT(*) FROM campaigns`,
		"dim_store":        `SELECT COUNT(*) FROM stores`,
	} {
		var n int64
		if err := db.R.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	return out
}
