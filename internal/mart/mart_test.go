package mart_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/mart"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

var (
	key      = bytes.Repeat([]byte{0x42}, 32)
	otherKey = bytes.Repeat([]byte{0x17}, 32)
)

func export(t *testing.T, db *store.DB, format string, since time.Time, k []byte) (string, *mart.Manifest) {
	t.Helper()
	dir := t.TempDir()
	m, err := mart.Export(context.Background(), db, mart.Options{Dir: dir, Format: format, Since: since, Key: k,
		Now: func() time.Time { return time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return dir, m
}

func count(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func sum(tb table, col string) int64 {
	var s int64
	for _, v := range tb.values(col) {
		n, _ := strconv.ParseInt(v, 10, 64)
		s += n
	}
	return s
}

func TestExport_TablesMatchTheSource(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		dir, m := export(t, db, mart.CSV, time.Time{}, key)
		got := readAll(t, dir, mart.CSV)

		responses := `(SELECT COUNT(*) FROM link_clicks) + (SELECT COUNT(*) FROM sms_inbox) + (SELECT COUNT(*) FROM redemptions) +
			(SELECT COUNT(*) FROM consents WHERE action = 'withdrawn')`
		want := map[string]int{
			"fact_contact":          count(t, db, `SELECT COUNT(*) FROM sms_outbox`),
			"fact_response":         count(t, db, `SELECT `+responses),
			"fact_transaction":      count(t, db, `SELECT COUNT(*) FROM baskets`),
			"fact_transaction_line": count(t, db, `SELECT COUNT(*) FROM basket_lines`),
			"fact_referral":         count(t, db, `SELECT COUNT(*) FROM referrals`),
			"dim_member":            count(t, db, `SELECT COUNT(*) FROM members`),
			"dim_member_profile":    count(t, db, `SELECT COUNT(*) FROM member_profiles`),
			"dim_campaign":          count(t, db, `SELECT COUNT(*) FROM campaigns`),
			"dim_store":             count(t, db, `SELECT COUNT(*) FROM stores`),
			"dim_channel":           5,
			"dim_date":              2, // 23 and 24 November
		}
		for _, tab := range mart.Tables {
			if len(got[tab.Name].rows) != want[tab.Name] {
				t.Errorf("%s: %d rows, want %d", tab.Name, len(got[tab.Name].rows), want[tab.Name])
			}
			if !slices.Equal(got[tab.Name].header, names(tab)) {
				t.Errorf("%s header %v", tab.Name, got[tab.Name].header)
			}
		}
		// The world is what it claims to be: every kind of row is there.
		for name, min := range map[string]int{"fact_contact": 4, "fact_transaction": 4, "dim_member": 4, "dim_campaign": 2} {
			if want[name] < min {
				t.Errorf("world has %d %s rows, want at least %d", want[name], name, min)
			}
		}
		types := map[string]int{}
		for _, ty := range got["fact_response"].values("response_type") {
			types[ty]++
		}
		if wantTypes := map[string]int{"click": 1, "reply": 2, "redemption": 2, "opt_out": 3}; !maps.Equal(types, wantTypes) {
			t.Errorf("response types %v, want %v", types, wantTypes)
		}

		// The manifest counts what the files hold.
		var mf mart.Manifest
		raw, err := os.ReadFile(filepath.Join(dir, mart.ManifestFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &mf); err != nil {
			t.Fatal(err)
		}
		for i, ti := range mf.Tables {
			if ti.Rows != int64(want[ti.Name]) || ti != m.Tables[i] || ti.File != ti.Name+".csv" {
				t.Errorf("manifest %+v, want %d rows", ti, want[ti.Name])
			}
		}
		if mf.Since != nil || mf.Format != "csv" || mf.KeyID == "" {
			t.Errorf("manifest %+v", mf)
		}

		// Money adds up to the SQL sums.
		sums := func(q string) int64 {
			var n int64
			if err := db.R.QueryRow(q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		tx, lines, resp := got["fact_transaction"], got["fact_transaction_line"], got["fact_response"]
		for _, c := range []struct {
			name string
			got  int64
			sql  string
		}{
			{"gross", sum(tx, "gross"), `SELECT SUM(gross) FROM baskets`},
			{"discount", sum(tx, "discount"), `SELECT SUM(discount) FROM baskets`},
			{"net", sum(tx, "net"), `SELECT SUM(gross - discount) FROM baskets`},
			{"points_earned", sum(tx, "points_earned"), `SELECT SUM(points_earned) FROM baskets`},
			{"line amount", sum(lines, "amount"), `SELECT SUM(quantity * unit_price) FROM basket_lines`},
			{"line discount", sum(lines, "discount"), `SELECT SUM(discount) FROM basket_lines`},
			{"returned_qty", sum(lines, "returned_qty"), `SELECT SUM(returned_qty) FROM basket_lines`},
			{"quantity_milli", sum(lines, "quantity_milli"), `SELECT SUM(CASE WHEN unit = '' THEN quantity * 1000 ELSE measure END) FROM basket_lines`},
			{"returned_milli", sum(lines, "returned_milli"), `SELECT SUM(CASE WHEN unit = '' THEN returned_qty * 1000 ELSE returned_measure END) FROM basket_lines`},
			// Net of returns: member 0 returned one of the two loaves it had 20% off.
			{"redemption value", sum(resp, "value"), `SELECT SUM(discount - discount_returned) FROM redemptions`},
		} {
			if want := sums(c.sql); c.got != want || want == 0 {
				t.Errorf("%s: exported %d, SQL %d", c.name, c.got, want)
			}
		}

		// A weighed line is exported exactly: 0.750 kg of cheese at
		// 18.99/kg (14.24 rounded half up once), 0.250 kg of it back.
		var cheese []string
		for _, r := range lines.rows {
			if r[lines.col("sku")] == "CHEESE" {
				for _, c := range []string{"unit", "quantity_milli", "unit_measure_price", "returned_milli", "quantity", "unit_price", "amount", "returned_qty"} {
					cheese = append(cheese, c+"="+r[lines.col(c)])
				}
			}
		}
		if want := []string{"unit=kg", "quantity_milli=750", "unit_measure_price=1899", "returned_milli=250", "quantity=1",
			"unit_price=1424", "amount=1424", "returned_qty=0"}; !slices.Equal(cheese, want) {
			t.Errorf("the weighed line: %v, want %v", cheese, want)
		}
		for i, r := range lines.rows {
			if u := r[lines.col("unit")]; u == "each" && r[lines.col("quantity_milli")] != r[lines.col("quantity")]+"000" {
				t.Errorf("line %d: a counted line's quantity_milli %s, quantity %s", i, r[lines.col("quantity_milli")], r[lines.col("quantity")])
			}
		}

		// Keys join: every fact's member is in dim_member, every line's
		// transaction in fact_transaction, every date in dim_date.
		members := set(got["dim_member"].values("member_key"))
		for _, f := range []string{"fact_contact", "fact_response", "fact_transaction"} {
			for _, k := range got[f].values("member_key") {
				if k != "" && !members[k] {
					t.Errorf("%s member_key %s is not in dim_member", f, k)
				}
			}
		}
		txns := set(tx.values("transaction_key"))
		for _, k := range lines.values("transaction_key") {
			if !txns[k] {
				t.Errorf("line of unknown transaction %s", k)
			}
		}
		dates := set(got["dim_date"].values("date_key"))
		for _, f := range []string{"fact_contact", "fact_response", "fact_transaction", "fact_transaction_line"} {
			for _, k := range got[f].values("date_key") {
				if !dates[k] {
					t.Errorf("%s date_key %s is not in dim_date", f, k)
				}
			}
		}
		if !members[mart.MemberKey(key, w.members[0].ID)] {
			t.Errorf("member 0's key %s is not in dim_member", mart.MemberKey(key, w.members[0].ID))
		}
		if got := tx.values("member_key"); !slices.Contains(got, "") {
			t.Errorf("anonymous basket has a member key: %v", got)
		}
	})
}

func names(tab mart.Table) []string {
	var out []string
	for _, c := range tab.Columns {
		out = append(out, c.Name)
	}
	return out
}

func set(vs []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func TestExport_SinceCutsFactsNotDimensions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		dir, m := export(t, db, mart.CSV, w.day2, key)
		got := readAll(t, dir, mart.CSV)
		s := w.day2
		want := map[string]int{
			"fact_contact": count(t, db, `SELECT COUNT(*) FROM sms_outbox WHERE created_at >= $1 OR send_after >= $1 OR sent_at >= $1
				OR delivered_at >= $1`, s),
			"fact_response": count(t, db, `SELECT (SELECT COUNT(*) FROM link_clicks WHERE clicked_at >= $1) +
				(SELECT COUNT(*) FROM sms_inbox WHERE received_at >= $1) +
				(SELECT COUNT(*) FROM redemptions WHERE created_at >= $1 OR restored_at >= $1) +
				(SELECT COUNT(*) FROM consents WHERE action = 'withdrawn' AND created_at >= $1)`, s),
			"fact_transaction": count(t, db, `SELECT COUNT(*) FROM baskets b WHERE created_at >= $1 OR voided_at >= $1
				OR EXISTS (SELECT 1 FROM basket_returns r WHERE r.basket_id = b.id AND r.created_at >= $1)`, s),
			"fact_transaction_line": count(t, db, `SELECT COUNT(*) FROM basket_lines l JOIN baskets b ON b.id = l.basket_id
				WHERE b.created_at >= $1 OR b.voided_at >= $1`, s),
			"dim_member":         count(t, db, `SELECT COUNT(*) FROM members`),
			"dim_member_profile": count(t, db, `SELECT COUNT(*) FROM member_profiles`),
			"dim_campaign":       count(t, db, `SELECT COUNT(*) FROM campaigns`),
			"dim_store":          2,
			"dim_channel":        5,
			"dim_date":           2, // the voided basket of the 23rd is exported again
		}
		// What day 2 did: one message (the thanks), a reply, a redemption,
		// an opt-out and the erasure's withdrawal, a new basket and a voided one.
		day2 := map[string]int{"fact_contact": 1, "fact_response": 4, "fact_transaction": 2, "fact_transaction_line": 4}
		for name, n := range day2 {
			if want[name] != n {
				t.Errorf("day 2 in SQL: %d %s rows, want %d", want[name], name, n)
			}
		}
		for _, tab := range mart.Tables {
			if len(got[tab.Name].rows) != want[tab.Name] {
				t.Errorf("%s: %d rows, want %d", tab.Name, len(got[tab.Name].rows), want[tab.Name])
			}
		}
		if m.Since == nil || !m.Since.Equal(w.day2) {
			t.Errorf("manifest since = %v", m.Since)
		}
		for _, ty := range got["fact_response"].values("response_type") {
			if ty == "click" {
				t.Errorf("a click of day 1 was exported since day 2")
			}
		}
		if st := got["fact_transaction"].values("status"); !slices.Contains(st, "voided") {
			t.Errorf("the basket voided on day 2 is missing: %v", st)
		}
	})
}

func TestExport_MemberKeysAreStableAndKeyed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		dir1, m1 := export(t, db, mart.CSV, time.Time{}, key)
		dir2, m2 := export(t, db, mart.CSV, time.Time{}, key)
		dir3, m3 := export(t, db, mart.CSV, time.Time{}, otherKey)
		k1 := readCSV(t, filepath.Join(dir1, "dim_member.csv")).values("member_key")
		k2 := readCSV(t, filepath.Join(dir2, "dim_member.csv")).values("member_key")
		k3 := readCSV(t, filepath.Join(dir3, "dim_member.csv")).values("member_key")
		if !slices.Equal(k1, k2) {
			t.Errorf("member keys changed between two exports with one key:\n%v\n%v", k1, k2)
		}
		for i := range k1 {
			if k1[i] == k3[i] || len(k1[i]) != 32 || len(k3[i]) != 32 {
				t.Errorf("member key %q under another key is %q", k1[i], k3[i])
			}
			for _, m := range w.members {
				if strings.Contains(k1[i], m.ID) || k1[i] == string(m.Code) {
					t.Errorf("member key %s shows the member id or code", k1[i])
				}
			}
		}
		if m1.KeyID != m2.KeyID || m1.KeyID == m3.KeyID {
			t.Errorf("key ids %s %s %s", m1.KeyID, m2.KeyID, m3.KeyID)
		}
		// Whole files are identical between two exports of the same data.
		for i, ti := range m1.Tables {
			if ti.SHA256 != m2.Tables[i].SHA256 {
				t.Errorf("%s differs between two exports", ti.Name)
			}
		}
	})
}

func TestExport_NoPersonalDataInAnyByte(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		secrets := append([]string{}, w.secrets...)
		for _, m := range w.members {
			secrets = append(secrets, string(m.Code), m.ID)
		}
		rows, err := db.R.Query(`SELECT token FROM card_tokens`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var tok string
			rows.Scan(&tok)
			secrets = append(secrets, tok)
		}
		rows.Close()
		secrets = append(secrets, "perk.test/c/", "STOP please", "what is this", "Thanks Yannick", "Your code is")
		// Parquet pages are compressed, so their bytes prove less; their
		// decoded values equal the CSV's (TestExport_ParquetEqualsCSV).
		for _, format := range []string{mart.CSV, mart.Parquet} {
			dir, _ := export(t, db, format, time.Time{}, key)
			if b, _ := os.ReadFile(filepath.Join(dir, "dim_store.csv")); format == mart.CSV && !bytes.Contains(b, []byte("High Street")) {
				t.Fatalf("the search finds nothing, not even a store name: %q", b)
			}
			files, _ := os.ReadDir(dir)
			if len(files) != len(mart.Tables)+1 {
				t.Errorf("%s export wrote %d files, want %d", format, len(files), len(mart.Tables)+1)
			}
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(dir, f.Name()))
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range secrets {
					if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(s))) {
						t.Errorf("%s holds %q", f.Name(), s)
					}
				}
			}
		}
	})
}

func TestExport_ParquetEqualsCSV(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		newWorld(t, db)
		csvDir, _ := export(t, db, mart.CSV, time.Time{}, key)
		pqDir, m := export(t, db, mart.Parquet, time.Time{}, key)
		c, p := readAll(t, csvDir, mart.CSV), readAll(t, pqDir, mart.Parquet)
		for _, tab := range mart.Tables {
			if !reflect.DeepEqual(c[tab.Name], p[tab.Name]) {
				t.Errorf("%s: CSV and parquet differ:\ncsv:     %q\nparquet: %q", tab.Name, c[tab.Name], p[tab.Name])
			}
		}
		for _, ti := range m.Tables {
			if ti.File != ti.Name+".parquet" {
				t.Errorf("file %s", ti.File)
			}
		}
	})
}

func TestExport_RefusesBadOptions(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	if _, err := mart.Export(ctx, db, mart.Options{Dir: t.TempDir()}); !errors.Is(err, mart.ErrNoKey) {
		t.Errorf("no key: %v", err)
	}
	if _, err := mart.Export(ctx, db, mart.Options{Dir: t.TempDir(), Key: key, Format: "xlsx"}); err == nil {
		t.Errorf("xlsx accepted")
	}
	for _, s := range []string{"", "zz", "0011", strings.Repeat("ab", 15)} {
		if _, err := mart.ParseKey(s); err == nil {
			t.Errorf("key %q accepted", s)
		}
	}
	if k, err := mart.ParseKey(strings.Repeat("ab", 16)); err != nil || len(k) != 16 {
		t.Errorf("32 hex digits: %v", err)
	}
}

// A failed export leaves no file under a final name and no manifest.
func TestExport_FailureLeavesNoFinishedFiles(t *testing.T) {
	db := storetest.SQLite(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, mart.ManifestFile), []byte("{}"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := mart.Export(ctx, db, mart.Options{Dir: dir, Key: key}); err == nil {
		t.Fatal("export with a cancelled context succeeded")
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		t.Errorf("left %s", f.Name())
	}
}

// docs/data-mart.md describes every table and column.
func TestDocsNameEveryColumn(t *testing.T) {
	doc, err := os.ReadFile("../../docs/data-mart.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, tab := range mart.Tables {
		i := bytes.Index(doc, []byte("### "+tab.Name))
		if i < 0 {
			t.Errorf("docs/data-mart.md has no section ### %s", tab.Name)
			continue
		}
		sec := doc[i+4:]
		if j := bytes.Index(sec, []byte("\n### ")); j >= 0 {
			sec = sec[:j]
		}
		for _, c := range tab.Columns {
			if !bytes.Contains(sec, []byte("| `"+c.Name+"` |")) {
				t.Errorf("docs/data-mart.md, %s: no row for column %s", tab.Name, c.Name)
			}
		}
	}
}

// A partial return changes a redemption's value (net of returns) without
// restoring it: an export since the return carries the redemption again.
func TestExport_SinceCarriesARedemptionAgainAfterAPartialReturn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		newWorld(t, db)
		returned := day1.Add(3 * time.Hour) // member 0 returned one of two loaves at 20% off
		dir, _ := export(t, db, mart.CSV, returned, key)
		resp := readAll(t, dir, mart.CSV)["fact_response"]
		var values []string
		for i, ty := range resp.values("response_type") {
			if ty == "redemption" && resp.values("transaction_key")[i] == "S1/T-1" {
				values = append(values, resp.values("value")[i])
			}
		}
		if !slices.Equal(values, []string{"50"}) {
			t.Errorf("redemption of S1/T-1 since its return: values %v, want [50] (100 off, 50 of it returned)", values)
		}
	})
}
