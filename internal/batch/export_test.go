package batch_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestExport_FullThenDelta: a full export lists every member's live offers
// for the store with their uses left and points, and the anonymous offers;
// the manifest's counts and sums match the files, which are all that is
// left in the folder. A delta after a sale lists only that member, all of
// their offers again (replace), without the one they have used up today.
func TestExport_FullThenDelta(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.seed(3)
		w.launch(campaign.Spec{Name: "Station only", Stores: []string{"S2"}, Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 5}}})
		w.clock.Advance(time.Hour) // campaigns changed just before an export would make its delta full
		sale := func(txn, member, sku string, price int64) {
			at := w.clock.Now().Format(time.RFC3339)
			file := "transaction_id,store,time,member,sku,quantity,unit_price\n" + txn + ",S1," + at + "," + member + "," + sku + ",1," + itoa(price) + "\n"
			if sum, err := w.batch.Process(ctx, strings.NewReader(file), batch.Run{Format: batch.CSV}); err != nil || sum.Committed != 1 {
				t.Fatalf("sale %s: %+v %v", txn, sum, err)
			}
		}
		sale("T1", w.phones[0], "COF", 1000)
		sale("T2", w.phones[0], "COF", 1000)
		w.clock.Advance(2 * time.Minute) // out of the next delta's look-back

		dir := t.TempDir()
		m, err := w.exporter.Export(ctx, batch.ExportOptions{Store: "S1", Format: batch.CSV, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, filepath.Join(dir, "offers-S1.csv"))
		if len(rows) != 3*4 {
			t.Errorf("%d member offers, want 12 (3 members x 4 campaigns, not the station's)", len(rows))
		}
		for _, r := range rows {
			if r["campaign"] == "Coffee 20" && r["member_code"] == w.codes[0] && r["uses_left"] != "2" {
				t.Errorf("coffee uses left for the member who used it twice = %q, want 2", r["uses_left"])
			}
			if r["campaign"] == "Coffee 20" && r["member_code"] == w.codes[0] && r["points_balance"] == "0" {
				t.Error("the member's points balance is missing")
			}
			if r["barcode"] != r["member_code"] || r["action"] != "add" {
				t.Errorf("row %v", r)
			}
		}
		anon := readCSV(t, filepath.Join(dir, "anonymous-S1.csv"))
		if len(anon) != 1 || anon[0]["campaign"] != "Pound off a tenner" || anon[0]["value"] != "100" || anon[0]["min_basket"] != "1000" {
			t.Errorf("anonymous offers %v", anon)
		}
		if !m.Full || len(m.Files) != 2 || m.Files[0].Rows != 12 || m.Files[1].Rows != 1 {
			t.Errorf("manifest %+v", m)
		}
		for _, f := range m.Files {
			b, _ := os.ReadFile(filepath.Join(dir, f.Name))
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Bytes {
				t.Errorf("%s: manifest sum or size differs from the file", f.Name)
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 3 {
			t.Errorf("folder holds %d files, want the two files and the manifest", len(entries))
		}

		w.clock.Advance(2 * time.Hour)
		sale("T3", w.phones[1], "WINE", 900)
		delta := t.TempDir()
		dm, err := w.exporter.Export(ctx, batch.ExportOptions{Store: "S1", Format: batch.JSONL, Since: m.Cursor, Dir: delta})
		if err != nil {
			t.Fatal(err)
		}
		offers := readJSONL(t, filepath.Join(delta, "offers-S1.jsonl"))
		if dm.Full || len(offers) != 3 {
			t.Fatalf("delta (full=%v) has %d rows, want the 3 offers of the one member who bought", dm.Full, len(offers))
		}
		for _, o := range offers {
			if o.MemberCode != w.codes[1] || o.Action != "replace" || o.Campaign == "Daily wine" {
				t.Errorf("delta row %+v", o)
			}
		}
		if dm.Cursor <= m.Cursor {
			t.Errorf("next cursor %q is not after %q", dm.Cursor, m.Cursor)
		}
		if _, err := w.exporter.Export(ctx, batch.ExportOptions{Format: batch.CSV, Since: "yesterday", Dir: delta}); err == nil {
			t.Error("a cursor no export printed was accepted")
		}
	})
}

func itoa(n int64) string { return jsonNum(n) }

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, c := range recs[0] {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func readJSONL(t *testing.T, path string) []batch.Offer {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []batch.Offer
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var o batch.Offer
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}
