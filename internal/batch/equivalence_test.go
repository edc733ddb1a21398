package batch_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/mart"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestTransactionFile_SameResultsAsLive sends the same 1,000 baskets (200
// with -short: members and anonymous, weighed lines, points paid, returns
// (of parts of weighed lines too), voids, retries) through the live API into one database and through a
// transaction file into another, and finds the ledgers, redemptions, offer
// uses, campaign figures and reports and the data mart's facts identical,
// for JSON Lines and CSV files alike.
func TestTransactionFile_SameResultsAsLive(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ops, want := throughLive(t, db, n)
		// The live side really sold and took back part of weighed lines.
		var weighed, partly int
		if err := db.R.QueryRow(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN returned_measure > 0 AND returned_measure < measure
			THEN 1 ELSE 0 END), 0) FROM basket_lines WHERE unit = 'kg'`).Scan(&weighed, &partly); err != nil {
			t.Fatal(err)
		}
		if weighed == 0 || partly == 0 {
			t.Fatalf("%d weighed lines, %d partly returned: the scenario must have both", weighed, partly)
		}
		for _, f := range []struct {
			format batch.Format
			file   []byte
		}{{batch.JSONL, jsonl(ops)}, {batch.CSV, csvFile(ops)}} {
			t.Run(string(f.format), func(t *testing.T) {
				throughFile(t, string(db.Dialect), ops, f.format, f.file, 1, want)
			})
		}
	})
}

// TestTransactionFile_WorkersSameResultsAsLive: with four workers the file
// still gives what live tills gave, as long as no campaign depends on the
// order of different shoppers' baskets (a budget, a total limit): a
// member's sales keep their order and returns and voids wait their turn.
func TestTransactionFile_WorkersSameResultsAsLive(t *testing.T) {
	var specs []campaign.Spec
	for _, s := range standardCampaigns() {
		if s.Limits.Budget == 0 && s.Limits.MaxRedemptions == 0 {
			specs = append(specs, s)
		}
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ops, want := throughLive(t, db, 200, specs...)
		throughFile(t, string(db.Dialect), ops, batch.JSONL, jsonl(ops), 4, want, specs...)
	})
}

// throughLive sends n operations through the live API and dumps the result.
func throughLive(t *testing.T, db *store.DB, n int, specs ...campaign.Spec) ([]op, map[string][]string) {
	live := newWorld(t, db)
	live.seed(20, specs...)
	ops := scenario(n, live.phones)
	url, key := live.serve()
	for _, o := range ops {
		live.clock.Set(o.at)
		path, body := "/v1/checkout/commit", any(o.sale)
		switch {
		case o.ret != nil:
			path, body = "/v1/checkout/return", o.ret
		case o.void != nil:
			path, body = "/v1/checkout/void", o.void
		}
		post(t, url+path, key, body)
	}
	live.clock.Set(ops[len(ops)-1].at)
	return ops, dump(t, live)
}

// throughFile processes the file into a fresh database of the engine,
// compares it with want, sends it again and checks that nothing changed.
func throughFile(t *testing.T, engine string, ops []op, format batch.Format, file []byte, workers int, want map[string][]string,
	specs ...campaign.Spec) {
	w := newWorld(t, storetest.Engine(t, engine))
	w.seed(20, specs...)
	w.clock.Set(ops[len(ops)-1].at)
	proc := batch.NewProcessor(w.checkout, batch.Options{Now: w.clock.Now, DB: w.db, Workers: workers})
	var errs bytes.Buffer
	sum, err := proc.Process(context.Background(), bytes.NewReader(file), batch.Run{Format: format, Mode: batch.Decide, Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != len(ops) {
		t.Errorf("read %d records, want %d", sum.Records, len(ops))
	}
	t.Logf("summary %+v; errors file:\n%s", sum, errs.String())
	got := dump(t, w)
	for _, table := range slices.Sorted(mapKeys(want)) {
		if !slices.Equal(got[table], want[table]) {
			t.Errorf("%s differs:\n%s", table, diffLines(want[table], got[table]))
		}
	}
	again, err := proc.Process(context.Background(), bytes.NewReader(file), batch.Run{Format: format, Mode: batch.Decide})
	if err != nil {
		t.Fatal(err)
	}
	if again.Committed != 0 || again.Unchanged+again.Failed != sum.Records {
		t.Errorf("second upload = %+v, want nothing committed", again)
	}
	if d := dump(t, w); !mapsEqual(d, got) {
		t.Error("the second upload changed the database")
	}
}

func post(t *testing.T, url, key string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode >= 500 {
		t.Fatalf("POST %s: %d", url, res.StatusCode)
	}
}

// dump renders what the baskets changed, table by table, each row a line
// with the world's random ids replaced by natural keys (a member by phone, a
// campaign by name, a basket by store and transaction id), rows sorted.
func dump(t *testing.T, w *world) map[string][]string {
	t.Helper()
	ctx := context.Background()
	pairs := []string{}
	add := func(q string, name func(a, b, c string) (string, string)) {
		rows, err := w.db.R.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var a, b, c string
			if err := rows.Scan(&a, &b, &c); err != nil {
				t.Fatal(err)
			}
			from, to := name(a, b, c)
			pairs = append(pairs, from, to)
		}
	}
	key := bytes.Repeat([]byte("k"), mart.MinKeyBytes)
	add(`SELECT id, phone, code FROM members`, func(id, phone, code string) (string, string) {
		pairs = append(pairs, code, "code("+phone+")", mart.MemberKey(key, id), "pseudo("+phone+")")
		return id, "member(" + phone + ")"
	})
	add(`SELECT id, name, '' FROM campaigns`, func(id, name, _ string) (string, string) { return id, "campaign(" + name + ")" })
	add(`SELECT id, store_id, transaction_id FROM baskets`, func(id, s, txn string) (string, string) { return id, "basket(" + s + "/" + txn + ")" })
	canon := strings.NewReplacer(pairs...)

	out := map[string][]string{}
	table := func(name, q string) {
		out[name] = queryRows(t, w.db, q, canon)
	}
	table("baskets", `SELECT * FROM baskets`)
	table("basket_lines", `SELECT * FROM basket_lines`)
	table("basket_returns", `SELECT * FROM basket_returns`)
	table("redemptions", `SELECT * FROM redemptions`)
	table("offer_uses", `SELECT * FROM offer_uses`)
	table("points_entries", `SELECT member_id, kind, points, reason, transaction_id, campaign_id, operator, created_at, available_at,
		expires_at, shortfall, debt FROM points_entries`)
	// Lots opened by one transaction at one instant are drawn in the order
	// of their random ids, so only their sum is the same in two databases.
	table("points_lots", `SELECT member_id, transaction_id, available_at, expires_at, SUM(remaining) FROM points_lots
		GROUP BY member_id, transaction_id, available_at, expires_at`)
	table("points_accounts", `SELECT * FROM points_accounts`)
	table("campaigns", `SELECT id, status, `+campaign.CountersSQL+`, ended_reason, version, updated_at FROM campaigns`)
	for name, c := range w.camps {
		f, err := figures.CampaignFigures(ctx, w.db.R, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		r, err := w.reports.Campaign(ctx, c.ID, report.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fj, _ := json.Marshal(f)
		rj, _ := json.Marshal(r)
		out["figures/"+name] = []string{canon.Replace(string(fj))}
		out["report/"+name] = []string{canon.Replace(string(rj))}
	}
	dir := t.TempDir()
	m, err := mart.Export(ctx, w.db, mart.Options{Dir: dir, Format: mart.CSV, Key: key, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range m.Tables {
		if !tb.Fact || tb.Name == "fact_contact" { // contacts are the welcome SMS, not baskets
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, tb.File))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(canon.Replace(string(b)), "\n")
		slices.Sort(lines)
		out["mart/"+tb.Name] = lines
	}
	return out
}

func queryRows(t *testing.T, db *store.DB, q string, canon *strings.Replacer) []string {
	t.Helper()
	rows, err := db.R.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			if v == nil {
				v = sql.NullString{}
			}
			fmt.Fprintf(&b, "%s=%v ", cols[i], v)
		}
		out = append(out, canon.Replace(b.String()))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func mapKeys(m map[string][]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// diffLines shows the first lines only one side has.
func diffLines(want, got []string) string {
	var b strings.Builder
	n := 0
	for _, l := range want {
		if !slices.Contains(got, l) && n < 5 {
			fmt.Fprintf(&b, "  - %s\n", l)
			n++
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) && n < 10 {
			fmt.Fprintf(&b, "  + %s\n", l)
			n++
		}
	}
	fmt.Fprintf(&b, "  (%d rows live, %d from the file)", len(want), len(got))
	return b.String()
}
