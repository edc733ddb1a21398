package batch_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
)

// op is one thing a till did: a sale, a return or a void, at a time.
type op struct {
	at   time.Time
	sale *checkout.Request
	ret  *checkout.ReturnRequest
	void *checkout.VoidRequest
}

type product struct {
	sku   string
	price int64 // per unit, or per kilogram for a weighed product
	cats  []string
	unit  string // "kg" for a weighed product
}

var products = []product{
	{"COF", 250, []string{"drinks"}, ""}, {"MILK", 99, nil, ""}, {"BREAD", 180, []string{"bakery"}, ""},
	{"CAKE", 320, []string{"bakery"}, ""}, {"WINE", 900, []string{"drinks"}, ""}, {"SOAP", 1200, nil, ""},
	// Weighed goods: 0.100 to 1.999 kg, priced per kilogram.
	{"CHEESE", 1899, []string{"deli"}, "kg"}, {"SOURDOUGH", 640, []string{"bakery"}, "kg"},
}

// scenario makes n operations over members' keys (phone numbers, the same in every world), always the same for the
// same n: sales by members and anonymous shoppers over several days, with
// weighed lines (0.100 to 1.999 kg), some paying with points, returns of
// parts of earlier sales (parts of weighed lines too), voids, and a few
// sales sent twice (a till retrying).
func scenario(n int, keys []string) []op {
	return scenarioStep(n, keys, start.Add(30*time.Minute), time.Minute)
}

// scenarioOver is scenario with its operations spread over about span
// instead of 25 minutes apart on average, so a big file stays within the
// campaigns' 30 days. It begins half an hour after seed has enrolled the
// keys' members (a second apart) and launched the campaigns.
func scenarioOver(n int, keys []string, span time.Duration) []op {
	from := start.Add(time.Duration(len(keys))*time.Second + 30*time.Minute)
	return scenarioStep(n, keys, from, max(span/time.Duration(25*n), time.Millisecond))
}

// scenarioStep is scenario from a time, with unit for its minute:
// operations are 5 to 44 units apart.
func scenarioStep(n int, keys []string, from time.Time, unit time.Duration) []op {
	r := rand.New(rand.NewPCG(10, uint64(n)))
	at := from
	var ops []op
	var sales []*checkout.Request
	returned := map[string]int{}
	for i := 0; len(ops) < n; i++ {
		at = at.Add(time.Duration(5+r.IntN(40)) * unit)
		roll := r.IntN(100)
		switch {
		case roll < 8 && len(sales) > 0:
			s := sales[r.IntN(len(sales))]
			returned[s.TransactionID]++
			it := s.Items[r.IntN(len(s.Items))]
			back := checkout.ReturnItem{Line: it.Line}
			if it.Unit != "" {
				back.Measure = catalogue.Quantity(1 + r.IntN(int(it.Measure))) // part of a weighed line
			} else {
				back.Quantity = 1 + r.IntN(it.Quantity)
			}
			ops = append(ops, op{at: at, ret: &checkout.ReturnRequest{Store: s.Store, TransactionID: s.TransactionID,
				ReturnID: fmt.Sprintf("R%d", i), Items: []checkout.ReturnItem{back}}})
		case roll < 12 && len(sales) > 0:
			s := sales[r.IntN(len(sales))]
			ops = append(ops, op{at: at, void: &checkout.VoidRequest{Store: s.Store, TransactionID: s.TransactionID}})
		case roll < 14 && len(sales) > 0:
			ops = append(ops, op{at: at, sale: sales[len(sales)-1]}) // a retry
		default:
			req := &checkout.Request{Store: []string{"S1", "S2"}[r.IntN(2)], Terminal: "T" + strconv.Itoa(1+r.IntN(3)), Currency: "GBP",
				TransactionID: fmt.Sprintf("TX%05d", i)}
			if r.IntN(10) < 7 {
				req.Member = checkout.Key(keys[r.IntN(len(keys))])
				if r.IntN(10) == 0 {
					req.RedeemPoints = int64(1 + r.IntN(60))
				}
			}
			for l := range 1 + r.IntN(4) {
				p := products[r.IntN(len(products))]
				it := checkout.Item{Line: l + 1, SKU: p.sku, Categories: p.cats, UnitPrice: p.price}
				if p.unit != "" {
					it.Measure, it.Unit = catalogue.Quantity(100+r.IntN(1900)), p.unit
				} else {
					it.Quantity = 1 + r.IntN(3)
				}
				req.Items = append(req.Items, it)
			}
			sales = append(sales, req)
			ops = append(ops, op{at: at, sale: req})
		}
	}
	return ops
}

// jsonl writes the operations as a JSON Lines transaction file.
func jsonl(ops []op) []byte {
	var b bytes.Buffer
	writeJSONL(&b, ops)
	return b.Bytes()
}

// writeJSONL writes the operations to w as a JSON Lines transaction file.
func writeJSONL(w io.Writer, ops []op) {
	enc := json.NewEncoder(w)
	for _, o := range ops {
		var v any
		switch {
		case o.sale != nil:
			v = struct {
				Type string    `json:"type"`
				Time time.Time `json:"time"`
				*checkout.Request
			}{"sale", o.at, o.sale}
		case o.ret != nil:
			v = struct {
				Type string    `json:"type"`
				Time time.Time `json:"time"`
				*checkout.ReturnRequest
			}{"return", o.at, o.ret}
		default:
			v = struct {
				Type string    `json:"type"`
				Time time.Time `json:"time"`
				*checkout.VoidRequest
			}{"void", o.at, o.void}
		}
		enc.Encode(v)
	}
}

// csvFile writes the operations as a CSV transaction file, a row per line.
func csvFile(ops []op) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"type", "transaction_id", "return_id", "store", "terminal", "time", "member", "line", "sku", "categories",
		"quantity", "unit", "unit_price", "redeem_points"})
	for _, o := range ops {
		at := o.at.Format(time.RFC3339)
		switch {
		case o.sale != nil:
			s := o.sale
			for _, it := range s.Items {
				qty, unit := strconv.Itoa(it.Quantity), "each"
				if it.Unit != "" {
					qty, unit = it.Measure.String(), it.Unit
				}
				w.Write([]string{"sale", s.TransactionID, "", s.Store, s.Terminal, at, s.MemberKey(), strconv.Itoa(it.Line), it.SKU,
					strings.Join(it.Categories, ";"), qty, unit, strconv.FormatInt(it.UnitPrice, 10),
					strconv.FormatInt(s.RedeemPoints, 10)})
			}
		case o.ret != nil:
			for _, it := range o.ret.Items {
				qty, unit := strconv.Itoa(it.Quantity), ""
				if it.Measure != 0 {
					qty, unit = it.Measure.String(), "kg" // the scenario weighs in kilograms
				}
				w.Write([]string{"return", o.ret.TransactionID, o.ret.ReturnID, o.ret.Store, "", at, "", strconv.Itoa(it.Line), "", "",
					qty, unit, "", ""})
			}
		default:
			w.Write([]string{"void", o.void.TransactionID, "", o.void.Store, "", at, "", "", "", "", "", "", "", ""})
		}
	}
	w.Flush()
	return b.Bytes()
}
