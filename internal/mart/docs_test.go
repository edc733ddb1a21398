package mart_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/mart"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

func readDoc(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/data-mart.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// section returns the text of docs/data-mart.md under a heading, up to the
// next heading of the same level or higher.
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("docs/data-mart.md has no %q", heading)
	}
	sec := doc[i+len(heading)+2:]
	if j := strings.Index(sec, "\n### "); j >= 0 {
		sec = sec[:j]
	}
	if j := strings.Index(sec, "\n## "); j >= 0 {
		sec = sec[:j]
	}
	return sec
}

var sqlBlock = regexp.MustCompile("(?s)```sql\n(.*?)```")

// The delivery states the docs list are the ones the SMS queue records: a
// query on a documented value finds the rows.
func TestDocs_DeliveryStatesAreTheRecordedOnes(t *testing.T) {
	sec := section(t, readDoc(t), "### fact_contact")
	var row string
	for _, l := range strings.Split(sec, "\n") {
		if strings.HasPrefix(l, "| `delivery_state` |") {
			row = l
		}
	}
	meaning := strings.Split(row, "|")
	if len(meaning) < 4 {
		t.Fatalf("no delivery_state row in fact_contact: %q", row)
	}
	var got []string
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(meaning[3], -1) {
		got = append(got, m[1])
	}
	want := []string{sms.Delivered, sms.Undeliv, sms.Expired, sms.Unknown}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("docs list delivery states %q, the queue records %q", got, want)
	}
}

// Every sql block under "### DuckDB" runs in DuckDB against a real export,
// and the per-campaign query gives the campaign report's figures.
func TestDocs_DuckDBExamples(t *testing.T) {
	node := testenv.Binary(t, "PERK_TEST_NODE", "node", "DuckDB examples of docs/data-mart.md")
	modules := testenv.Env(t, "PERK_TEST_DUCKDB_NODE_MODULES", "DuckDB examples of docs/data-mart.md (a node_modules folder with @duckdb/node-api)")
	var blocks []string
	for _, m := range sqlBlock.FindAllStringSubmatch(section(t, readDoc(t), "### DuckDB"), -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) == 0 {
		t.Fatal("no sql blocks under ### DuckDB")
	}

	db, w, root := docExports(t)
	results := runDuckDB(t, node, modules, root, blocks)

	reports := report.NewService(db, w.campaigns, w.clock.Now)
	checked := map[string]bool{}
	for i, b := range blocks {
		switch {
		case strings.Contains(b, "-- messages by delivery receipt"):
			checkDeliveryStates(t, db, results[i])
			checked["delivery"] = true
		case strings.Contains(b, "-- per campaign, as the campaign report counts them"):
			checkCampaigns(t, reports, results[i])
			checked["campaigns"] = true
		}
	}
	for _, k := range []string{"delivery", "campaigns"} {
		if !checked[k] {
			t.Errorf("no %s example under ### DuckDB to check", k)
		}
	}
}

// docExports makes the test world on SQLite, adds a redemption a void gave
// back, and exports it as the docs' examples expect: a full export in
// root/mart (parquet and CSV) and a --since export in root/mart-incr (both).
func docExports(t *testing.T) (*store.DB, *world, string) {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	w := newWorld(t, db)
	// A redemption given back by a void: counted nowhere.
	if _, err := w.checkout.Commit(ctx, &checkout.Request{Store: "S1", Terminal: "T1", Member: checkout.Key(string(w.members[1].Code)), Currency: "GBP",
		TransactionID: "T-9", Items: []checkout.Item{{Line: 1, SKU: "BREAD", Quantity: 4, UnitPrice: 250}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T-9"}); err != nil {
		t.Fatal(err)
	}
	// The data set must be able to catch the mistakes the examples once made.
	if n := count(t, db, `SELECT COUNT(*) FROM redemptions WHERE restored_at IS NOT NULL`); n == 0 {
		t.Fatal("the world has no restored redemption")
	}
	if n := count(t, db, `SELECT MIN(n) FROM (SELECT COUNT(*) AS n FROM sms_outbox WHERE campaign_id IS NOT NULL GROUP BY campaign_id) x`); n < 2 {
		t.Fatalf("a campaign with %d messages cannot show a fan-out", n)
	}
	root := t.TempDir()
	for _, e := range []struct {
		dir, format string
		since       time.Time
	}{{"mart", mart.Parquet, time.Time{}}, {"mart", mart.CSV, time.Time{}}, {"mart-incr", mart.Parquet, w.day2}, {"mart-incr", mart.CSV, w.day2}} {
		if _, err := mart.Export(ctx, db, mart.Options{Dir: filepath.Join(root, e.dir), Format: e.format, Since: e.since, Key: key, Now: w.clock.Now}); err != nil {
			t.Fatalf("export %s %s: %v", e.dir, e.format, err)
		}
	}
	return db, w, root
}

func runDuckDB(t *testing.T, node, modules, dir string, blocks []string) [][]map[string]any {
	t.Helper()
	script, err := filepath.Abs("testdata/duckdb.js")
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(blocks)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v: %s", err, stderr.String())
	}
	var res [][]map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("duckdb output: %v: %s", err, out)
	}
	if len(res) != len(blocks) {
		t.Fatalf("duckdb ran %d of %d blocks", len(res), len(blocks))
	}
	return res
}

// str renders a DuckDB JSON value (BIGINT and HUGEINT come as strings).
func str(v any) string {
	if v == nil {
		return "NULL"
	}
	return fmt.Sprint(v)
}

func checkDeliveryStates(t *testing.T, db *store.DB, rows []map[string]any) {
	t.Helper()
	want := map[string]string{}
	r, err := db.R.Query(`SELECT COALESCE(NULLIF(delivery_state, ''), 'NULL'), COUNT(*) FROM sms_outbox GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		var s string
		var n int
		if err := r.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		want[s] = fmt.Sprint(n)
	}
	got := map[string]string{}
	for _, row := range rows {
		got[str(row["delivery_state"])] = str(row["messages"])
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("messages by delivery state: DuckDB %v, database %v", got, want)
	}
	if got[sms.Delivered] == "" || got[sms.Undeliv] == "" {
		t.Errorf("no %s or %s messages in %v", sms.Delivered, sms.Undeliv, got)
	}
}

func checkCampaigns(t *testing.T, reports *report.Service, rows []map[string]any) {
	t.Helper()
	if len(rows) == 0 {
		t.Fatal("the per-campaign query returned no rows")
	}
	for _, row := range rows {
		id := str(row["campaign_id"])
		rep, err := reports.Campaign(context.Background(), id, report.Options{})
		if err != nil {
			t.Fatalf("report %s: %v", id, err)
		}
		want := map[string]int64{
			"messages": rep.Messages.Total, "sent": rep.Messages.Sent, "delivered": rep.Messages.Delivered,
			"undelivered": rep.Messages.Undelivered, "redemptions": rep.Redemptions, "redeeming_members": rep.RedeemingMembers,
			"discount_minor": rep.DiscountGiven, "points": rep.PointsGiven,
		}
		for col, v := range want {
			if got := str(row[col]); got != fmt.Sprint(v) {
				t.Errorf("%s (%s): %s = %s, the campaign report says %d", rep.Name, id, col, got, v)
			}
		}
		if rep.AudienceKind == "filter" || rep.AudienceKind == "list" {
			wantRate := "NULL"
			if rep.RedemptionRate != nil {
				wantRate = fmt.Sprint(*rep.RedemptionRate)
			}
			if got := str(row["redemption_rate"]); got != wantRate {
				t.Errorf("%s: redemption_rate = %s, the campaign report says %s", rep.Name, got, wantRate)
			}
		}
		t.Logf("%s: %v", rep.Name, row)
	}
}

// The sql block under "### PostgreSQL" runs in psql against a real CSV
// export and loads every row: the incremental upsert adds no duplicate.
func TestDocs_PostgreSQLExamples(t *testing.T) {
	psql := testenv.Binary(t, "PERK_TEST_PSQL", "psql", "PostgreSQL examples of docs/data-mart.md")
	base := testenv.Env(t, storetest.PostgresEnv, "PostgreSQL examples of docs/data-mart.md")
	blocks := sqlBlock.FindAllStringSubmatch(section(t, readDoc(t), "### PostgreSQL"), -1)
	if len(blocks) == 0 {
		t.Fatal("no sql blocks under ### PostgreSQL")
	}
	_, _, root := docExports(t)
	dsn := storetest.DSN(t, base) // a fresh schema, dropped at the end
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	for i, b := range blocks {
		file := filepath.Join(root, fmt.Sprintf("block%d.sql", i+1))
		if err := os.WriteFile(file, []byte(b[1]), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", base, "-f", file)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("psql, block %d: %v\n%s", i+1, err, out)
		}
	}

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var m mart.Manifest
	raw, err := os.ReadFile(filepath.Join(root, "mart", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	loaded := 0
	for _, tab := range m.Tables {
		var n int64
		if err := db.QueryRow(`SELECT COUNT(*) FROM ` + tab.Name).Scan(&n); err != nil {
			continue // a table the example leaves to "likewise"
		}
		loaded++
		if n != tab.Rows {
			t.Errorf("%s: %d rows in PostgreSQL, %d in the export", tab.Name, n, tab.Rows)
		}
	}
	if loaded < 4 {
		t.Errorf("the example loads %d tables", loaded)
	}
	var delivered int
	if err := db.QueryRow(`SELECT COUNT(*) FROM fact_contact WHERE delivery_state = $1`, sms.Delivered).Scan(&delivered); err != nil || delivered == 0 {
		t.Errorf("delivered messages after the load: %d, %v", delivered, err)
	}
}
