package batch

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/tabular"
)

// ResultColumns are the columns of a CSV results file, one row per record.
var ResultColumns = []string{"row", "type", "store", "transaction_id", "return_id", "status", "member", "subtotal", "discount",
	"total", "points_earned", "points_redeemed", "refund", "points_reversed", "offers", "breaches", "error"}

// Result is one line of a JSON Lines results file.
type Result struct {
	Row           int                      `json:"row"`
	Type          Kind                     `json:"type"`
	Store         string                   `json:"store"`
	TransactionID string                   `json:"transaction_id"`
	ReturnID      string                   `json:"return_id,omitempty"`
	Status        string                   `json:"status"` // committed, unchanged, error
	Sale          *checkout.Response       `json:"sale,omitempty"`
	Undo          *checkout.ReturnResponse `json:"undo,omitempty"`
	Breaches      []checkout.Breach        `json:"breaches,omitempty"`
	Error         *ResultError             `json:"error,omitempty"`
}

// ResultError is a refused record's error, in the API's shape.
type ResultError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

type resultWriter struct {
	format Format
	bw     *bufio.Writer
	cw     *csv.Writer
	enc    *json.Encoder
	header bool
}

func newResultWriter(w io.Writer, f Format) *resultWriter {
	if w == nil {
		return &resultWriter{}
	}
	rw := &resultWriter{format: f, bw: bufio.NewWriterSize(w, 64<<10)}
	if f == CSV {
		rw.cw = csv.NewWriter(rw.bw)
	} else {
		rw.enc = json.NewEncoder(rw.bw)
	}
	return rw
}

func (w *resultWriter) write(rec *Record, out *outcome) error {
	if w.bw == nil {
		return nil
	}
	store, txn := rec.key()
	r := Result{Row: rec.Row, Type: rec.Kind, Store: store, TransactionID: txn, Status: out.status, Sale: out.sale, Undo: out.undo,
		Breaches: out.breaches}
	if rec.Return != nil {
		r.ReturnID = rec.Return.ReturnID
	}
	if out.err != nil {
		r.Error = &ResultError{Code: "internal", Message: out.err.Error()}
		if pe, ok := out.err.(*problem.Error); ok {
			r.Error = &ResultError{Code: pe.Code, Message: pe.Message, Field: pe.Field}
		}
	}
	if w.enc != nil {
		return w.enc.Encode(r)
	}
	if !w.header {
		w.header = true
		if err := w.cw.Write(ResultColumns); err != nil {
			return err
		}
	}
	return w.cw.Write(tabular.DefuseAll(csvResult(&r)))
}

func csvResult(r *Result) []string {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	row := make([]string, len(ResultColumns))
	row[0], row[1], row[2], row[3], row[4], row[5] = strconv.Itoa(r.Row), string(r.Type), r.Store, r.TransactionID, r.ReturnID, r.Status
	if s := r.Sale; s != nil {
		if s.Member != nil {
			row[6] = s.Member.Code
		}
		row[7], row[8], row[9], row[10], row[11] = n(s.Subtotal), n(s.TotalDiscount), n(s.Total), n(s.PointsEarned), n(s.PointsRedeemed)
		offers := make([]string, len(s.Benefits))
		for i, b := range s.Benefits {
			offers[i] = b.OfferID + ":" + n(b.Discount)
			if b.Points > 0 {
				offers[i] += ":" + n(b.Points) + "pts"
			}
		}
		row[14] = strings.Join(offers, ";")
	}
	if u := r.Undo; u != nil {
		row[12], row[13] = n(u.Refund), n(u.PointsReversed)
	}
	breaches := make([]string, len(r.Breaches))
	for i, b := range r.Breaches {
		breaches[i] = b.OfferID + ":" + string(b.Rule)
	}
	row[15] = strings.Join(breaches, ";")
	if r.Error != nil {
		row[16] = r.Error.Code + ": " + r.Error.Message
	}
	return row
}

func (w *resultWriter) flush() error {
	if w.bw == nil {
		return nil
	}
	if w.cw != nil {
		if !w.header {
			w.header = true
			w.cw.Write(ResultColumns)
		}
		w.cw.Flush()
		if err := w.cw.Error(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}
