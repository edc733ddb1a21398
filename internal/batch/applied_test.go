package batch_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestApplied_RecordsTheTillsOffersAndReconciles: in applied mode every sale
// is recorded with the discounts the till gave; the offer used past its
// limit, the unknown offer and the unknown member are listed in the
// reconciliation report with the amount at stake, and a second upload
// changes nothing.
func TestApplied_RecordsTheTillsOffersAndReconciles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.seed(2)
		coffee := w.camps["Coffee 20"].ID + ".1" // four uses per member
		m := w.phones[0]
		var b strings.Builder
		b.WriteString("transaction_id,store,time,member,line,sku,quantity,unit_price,offers\n")
		for i := range 5 {
			at := start.Add(time.Hour + time.Duration(i)*time.Minute).Format(time.RFC3339)
			b.WriteString("T" + string(rune('1'+i)) + ",S1," + at + "," + m + ",1,COF,1,250," + coffee + ":50\n")
		}
		b.WriteString("T9,S2," + start.Add(2*time.Hour).Format(time.RFC3339) + ",+447700900999,1,SOAP,1,1200,cmp_gone.1:200\n")
		file := b.String()
		var results, errs bytes.Buffer
		sum, err := w.batch.Process(ctx, strings.NewReader(file), batch.Run{Format: batch.CSV, Mode: batch.Applied, Results: &results, Errors: &errs})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Committed != 6 || sum.Breaches != 3 || sum.RowErrors != 0 {
			t.Errorf("summary %+v, want 6 committed with 3 breaches; errors:\n%s", sum, errs.String())
		}
		var rep bytes.Buffer
		n, err := batch.WriteReconciliation(ctx, w.db, start, &rep)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"S1,T5,code,COFFEE,Coffee 20,over_limit,50",
			"S2,T9,,,,unknown_member,200",
			"S2,T9,,cmp_gone.1,,unknown_offer,200",
		}
		lines := strings.Split(strings.TrimSpace(rep.String()), "\n")[1:]
		if n != len(want) || len(lines) != len(want) {
			t.Fatalf("report:\n%s", rep.String())
		}
		for i, l := range lines {
			f := strings.Split(l, ",")
			got := strings.Join([]string{f[1], f[2], maskCode(f[3]), maskOffer(f[4], coffee), f[5], f[6], f[len(f)-1]}, ",")
			if got != want[i] {
				t.Errorf("breach %d = %s, want %s", i, got, want[i])
			}
		}
		var discount int64
		w.db.R.QueryRow(`SELECT SUM(discount) FROM baskets`).Scan(&discount)
		if discount != 5*50+200 {
			t.Errorf("baskets' discounts sum to %d, want every discount the tills gave, %d", discount, 5*50+200)
		}
		again, err := w.batch.Process(ctx, strings.NewReader(file), batch.Run{Format: batch.CSV, Mode: batch.Applied})
		if err != nil {
			t.Fatal(err)
		}
		if again.Unchanged != 6 || again.Breaches != 0 {
			t.Errorf("second upload %+v, want 6 unchanged", again)
		}
		if n2, _ := batch.WriteReconciliation(ctx, w.db, start, &bytes.Buffer{}); n2 != n {
			t.Errorf("second upload made %d breaches, want %d", n2, n)
		}
	})
}

func maskCode(s string) string {
	if s != "" {
		return "code"
	}
	return ""
}

func maskOffer(s, coffee string) string {
	if s == coffee {
		return "COFFEE"
	}
	return s
}
