package batch

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/perk-platform/perk/internal/tabular"
)

// FuzzTransactionCSV checks that any CSV transaction file is read to the end
// without panics or endless loops, that every record it yields is whole
// (a kind, rows that go forward, a sale's lines each on its own row) and
// that every row error names a row of the file.
func FuzzTransactionCSV(f *testing.F) {
	for _, s := range []string{
		"transaction_id,store,sku,quantity,unit_price\nT1,S1,A,1,100\nT1,S1,B,2,50\nT2,S1,A,1,100\n",
		"type,transaction_id,return_id,store,line,sku,quantity,unit_price,offers\nsale,T1,,S1,1,A,2,100,cmp_x.1:20\nreturn,T1,R1,S1,1,,1,,\nvoid,T1,,S1,,,,,\n",
		"transaction_id,store,sku,quantity,unit,unit_price,time,member\nT1,S1,CHEESE,0.750,kg,1899,2026-12-04T10:00:00Z,+447700900000\nT2,S1,A,two,,1,bad,\n",
		"transaction_id,store,sku,quantity,unit_price\nT1,S1,\"A\nB\",1,100\nT1,S1\nT2,S1,A,1,10",
		"transaction_id;store;barcode;quantity;unit_price;currency;redeem_points\nT1;S1;5000001;1;320;EUR;x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := int(bytes.Count(data, []byte("\n"))) + 1
		report := func(e tabular.RowError) {
			if e.Row < 1 || e.Row > lines {
				t.Fatalf("row error on row %d of a %d-line file: %v", e.Row, lines, e)
			}
		}
		r, err := newCSVReader(bytes.NewReader(data), "GBP", report)
		if err != nil {
			if !errors.Is(err, ErrUnreadable) {
				t.Fatalf("newCSVReader: %v", err)
			}
			return
		}
		last := 1
		for i := 0; ; i++ {
			if i > lines {
				t.Fatalf("more records than lines")
			}
			rec, err := r.next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("next: %v", err)
			}
			if rec.Row <= last || rec.Row > lines {
				t.Fatalf("record on row %d after row %d, of %d lines", rec.Row, last, lines)
			}
			last = rec.Row
			switch rec.Kind {
			case Sale:
				if rec.Sale == nil || len(rec.Sale.Items) != len(rec.itemRows) || len(rec.Sale.Items) == 0 {
					t.Fatalf("sale %+v with rows %v", rec.Sale, rec.itemRows)
				}
				for _, it := range rec.Sale.Items {
					if (it.Quantity < 1) == (it.Measure < 1) {
						t.Fatalf("a line read with %d units and a measure of %s: want exactly one of them", it.Quantity, it.Measure)
					}
				}
			case Return:
				if rec.Return == nil {
					t.Fatal("return without its request")
				}
			case Void:
				if rec.Void == nil {
					t.Fatal("void without its request")
				}
			default:
				t.Fatalf("kind %q", rec.Kind)
			}
			if n := len(rec.itemRows); n > 0 {
				last = rec.itemRows[n-1]
			}
		}
	})
}
