package batch_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

const csvHeader = "transaction_id,store,terminal,time,member,currency,line,sku,quantity,unit,unit_price\n"

// TestProcess_RowErrorsAndTheRestOfTheFile: every kind of bad input is a
// row error naming its row and column, its transaction is not recorded (all
// its lines or none), and every other transaction still is.
func TestProcess_RowErrorsAndTheRestOfTheFile(t *testing.T) {
	tests := []struct {
		name      string
		format    batch.Format
		file      string
		errors    []string // rows of the errors file after its header
		committed int
	}{
		{"a quantity that is not a number", batch.CSV, csvHeader +
			"T1,S1,1,2026-11-23T09:00:00Z,,GBP,1,A,2,each,100\n" +
			"T2,S1,1,2026-11-23T09:01:00Z,,GBP,1,A,two,each,100\n" +
			"T2,S1,1,2026-11-23T09:01:00Z,,GBP,2,B,1,each,100\n" +
			"T3,S1,1,2026-11-23T09:02:00Z,,GBP,1,A,1,,100\n",
			[]string{`3,quantity,"""two"" is not a number"`}, 2},
		{"weighed lines name their unit", batch.CSV, csvHeader +
			"T1,S1,1,2026-11-23T09:00:00Z,,GBP,1,CHEESE,0.750,kg,1899\n" +
			"T2,S1,1,2026-11-23T09:01:00Z,,GBP,1,A,0.5,,100\n" +
			"T3,S1,1,2026-11-23T09:02:00Z,,GBP,1,A,1,stone,100\n" +
			"T4,S1,1,2026-11-23T09:03:00Z,,GBP,1,A,0.0001,kg,100\n" +
			"T5,S1,1,2026-11-23T09:04:00Z,,GBP,1,A,1,each,100\n",
			[]string{`3,quantity,"""0.5"" has decimals: give the line's weight or volume unit (each, kg, g, lb, oz, l, ml, m)"`,
				`4,unit,"""stone"" is not a unit (each, kg, g, lb, oz, l, ml, m)"`,
				`5,quantity,"""0.0001"": quantity must be a decimal number like 2 or 0.750, at most 3 decimals, 0 to 100000"`}, 2},
		{"a basket in a foreign currency", batch.CSV, csvHeader +
			"T1,S1,1,2026-11-23T09:00:00Z,,EUR,1,A,1,each,100\n" +
			"T2,S1,1,2026-11-23T09:01:00Z,,GBP,1,A,1,each,100\n",
			[]string{`2,currency,"currency_unsupported: ""EUR"" is not this programme's currency (GBP)"`}, 1},
		{"a checkout refusal names the line's own row", batch.CSV, csvHeader +
			"T1,S1,1,2026-11-23T09:00:00Z,,GBP,1,A,1,each,100\n" +
			"T1,S1,1,2026-11-23T09:00:00Z,,GBP,2,B,1,each,-5\n" +
			"T2,S1,1,2026-11-23T09:01:00Z,,GBP,1,A,1,each,100\n",
			[]string{`3,unit_price,price_invalid: must be 0 to 10000000000 minor units`}, 1},
		{"a row that cannot be read takes its transaction with it", batch.CSV, csvHeader +
			"T1,S1,1,2026-11-23T09:00:00Z,,GBP,1,A,1,each,100\n" +
			"T1,S1,1\n" +
			"T1,S1,1,2026-11-23T09:00:00Z,,GBP,3,C,1,each,100\n" +
			"T2,S1,1,2026-11-23T09:01:00Z,,GBP,1,A,1,each,100\n",
			[]string{`3,,"row has 3 fields, header has 11"`,
				`2,transaction_id,transaction not recorded: a row next to it could not be read (see above); fix it and send the file again`}, 1},
		{"a truncated last line", batch.CSV, csvHeader +
			"T1,S1,1,2026-11-23T09:00:00Z,,GBP,1,A,1,each,100\n" +
			"T2,S1,1,2026-11-23T09:01:00Z,,GBP,1,A,1,each,10",
			[]string{`3,,"truncated last line: the file does not end with a line end, so its last transaction was not recorded"`}, 1},
		{"a transaction id re-used with another basket", batch.CSV, csvHeader +
			"T1,S1,1,2026-11-23T09:00:00Z,,GBP,1,A,1,each,100\n" +
			"T1,S1,1,2026-11-23T09:05:00Z,,GBP,1,A,2,each,100\n" +
			"T1,S1,1,2026-11-23T09:06:00Z,,GBP,1,A,1,each,100\n",
			[]string{`3,,transaction_conflict: this transaction id was committed with a different basket`}, 1},
		{"JSON Lines: a quantity that is not a number", batch.JSONL,
			`{"store":"S1","transaction_id":"T1","currency":"GBP","items":[{"line":1,"sku":"A","quantity":"2","unit_price":100}]}` + "\n" +
				`{"store":"S1","transaction_id":"T2","currency":"GBP","items":[{"line":1,"sku":"A","quantity":0.75,"unit_price":100}]}` + "\n" +
				`{"store":"S1","transaction_id":"T3","currency":"GBP","items":[{"line":1,"sku":"A","quantity":1,"unit_price":100}]}` + "\n",
			[]string{`1,items.quantity,the quantity is not a number`,
				`2,items[0].quantity,"quantity_invalid: must be whole units for a product sold each (a weighed line names its unit, e.g. ""unit"":""kg"")"`}, 1},
		{"JSON Lines: unknown fields, foreign currency, truncated last line", batch.JSONL,
			`{"store":"S1","transaction_id":"T1","currency":"GBP","items":[{"line":1,"sku":"A","quantity":1,"unit_price":100}],"colour":"red"}` + "\n" +
				`{"store":"S1","transaction_id":"T2","currency":"USD","items":[{"line":1,"sku":"A","quantity":1,"unit_price":100}]}` + "\n" +
				`{"type":"void","store":"S1","transaction_id":"T9"}` + "\n" +
				`{"store":"S1","transaction_id":"T3","currency":"GBP","items":[{"line":1,"sku":"A","quantity":1,"unit_price":100}]}` + "\n" +
				`{"store":"S1","transaction_id":"T4","currency":"GBP","items":[{"line":1,"sku":"A","quantity":1,"unit_pr`,
			[]string{`1,,"unknown field ""colour"""`,
				`2,currency,"currency_unsupported: ""USD"" is not this programme's currency (GBP)"`,
				`3,,transaction_not_found: no committed transaction with this id at this store`,
				`5,,truncated last line: the file does not end with a line end and its last line is not a whole record (not JSON (unexpected end of JSON input))`}, 1},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := newWorld(t, storetest.Engine(t, string(db.Dialect)))
				var errs bytes.Buffer
				sum, err := w.batch.Process(context.Background(), strings.NewReader(tt.file), batch.Run{Format: tt.format, Errors: &errs})
				if err != nil {
					t.Fatal(err)
				}
				got := strings.Split(strings.TrimSpace(errs.String()), "\n")[1:]
				if strings.Join(got, "\n") != strings.Join(tt.errors, "\n") {
					t.Errorf("errors file:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.errors, "\n"))
				}
				if sum.Committed != tt.committed {
					t.Errorf("committed %d, want %d (%+v)", sum.Committed, tt.committed, sum)
				}
			})
		}
	})
}
