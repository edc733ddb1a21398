package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_Batch: a transaction file (a weighed line among them) through
// perk batch transactions, sent twice (the second time changes nothing),
// then an offer export and a delta from its printed cursor, and the
// reconciliation report.
func TestCLI_Batch(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PERK_DB=" + filepath.Join(dir, "perk.db"), "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn"}
	importStores(t, env, dir, "S1")
	file := filepath.Join(dir, "tills.csv")
	os.WriteFile(file, []byte("transaction_id,store,time,sku,quantity,unit,unit_price\n"+
		"T1,S1,2026-12-04T10:00:00Z,A,2,each,250\nT2,S1,2026-12-04T10:01:00Z,CHEESE,0.750,kg,1899\n"), 0o644)
	stdout, stderr, err := perk(t, env, "batch", "transactions", file)
	if err != nil || !strings.Contains(stdout, "2 records, 2 committed, 0 unchanged, 0 failed (0 conflicts), 0 row errors") {
		t.Fatalf("first upload: %v\n%s\n%s", err, stdout, stderr)
	}
	stdout, _, err = perk(t, env, "batch", "transactions", "--mode", "applied", file)
	if err != nil || !strings.Contains(stdout, "0 committed, 2 unchanged") {
		t.Fatalf("second upload: %v\n%s", err, stdout)
	}
	out := filepath.Join(dir, "offers")
	cursor, stderr, err := perk(t, env, "batch", "offers", "--out", out, "--format", "jsonl")
	if err != nil || !strings.HasPrefix(cursor, "v1.") {
		t.Fatalf("offers: %v %q\n%s", err, cursor, stderr)
	}
	for _, name := range []string{"offers-all.jsonl", "anonymous-all.jsonl", "manifest-all.json"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
	if _, stderr, err := perk(t, env, "batch", "offers", "--out", out, "--since", strings.TrimSpace(cursor)); err != nil {
		t.Errorf("delta: %v\n%s", err, stderr)
	}
	if _, _, err := perk(t, env, "batch", "offers", "--out", out, "--store", "S404"); err == nil {
		t.Error("an unknown store was exported")
	}
	report, _, err := perk(t, env, "batch", "reconciliation")
	if err != nil || !strings.HasPrefix(report, "time,store,transaction_id") {
		t.Errorf("reconciliation: %v %q", err, report)
	}
	if _, _, err := perk(t, env, "batch", "transactions"); err == nil {
		t.Error("no file is not a usage error")
	}
}
