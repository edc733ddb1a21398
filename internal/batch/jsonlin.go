package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/tabular"
)

// maxJSONLine bounds one JSON Lines record: a basket of checkout.MaxItems
// lines fits many times over.
const maxJSONLine = 4 << 20

// jsonSale is a sale line: the body of POST /v1/checkout/commit plus its
// time and the offers the till applied.
type jsonSale struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	checkout.Request
	Applied []checkout.Given `json:"applied,omitempty"`
}

// jsonReturn is a return line: the body of POST /v1/checkout/return.
type jsonReturn struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	checkout.ReturnRequest
}

// jsonVoid is a void line: the body of POST /v1/checkout/void.
type jsonVoid struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	checkout.VoidRequest
}

// jsonlReader reads one record per line.
type jsonlReader struct {
	br       *bufio.Reader
	currency string
	report   func(tabular.RowError)
	row      int
}

func newJSONLReader(in io.Reader, currency string, report func(tabular.RowError)) *jsonlReader {
	return &jsonlReader{br: bufio.NewReaderSize(in, 64<<10), currency: currency, report: report}
}

func (j *jsonlReader) next() (*Record, error) {
	for {
		line, complete, err := j.line()
		if err != nil {
			return nil, err
		}
		j.row++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, col, reason := decodeJSONRecord(line)
		if reason != "" {
			if !complete {
				reason = "truncated last line: the file does not end with a line end and its last line is not a whole record (" + reason + ")"
			}
			j.report(tabular.RowError{Row: j.row, Column: col, Reason: reason})
			continue
		}
		rec.Row = j.row
		return rec, nil
	}
}

// line returns the next line without its end, whether it had one, and
// io.EOF after the last. A line longer than maxJSONLine is reported and
// skipped.
func (j *jsonlReader) line() ([]byte, bool, error) {
	var buf []byte
	for {
		part, err := j.br.ReadSlice('\n')
		if len(buf)+len(part) > maxJSONLine {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = j.br.ReadSlice('\n')
			}
			j.row++
			j.report(tabular.RowError{Row: j.row, Reason: fmt.Sprintf("line is longer than %d bytes", maxJSONLine)})
			buf = buf[:0]
			if err == nil {
				continue
			}
		} else {
			buf = append(buf, part...)
		}
		switch {
		case err == nil:
			return bytes.TrimRight(buf, "\r\n"), true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(buf) > 0:
			return buf, false, nil
		case err == io.EOF:
			return nil, false, io.EOF
		default:
			return nil, false, fmt.Errorf("read transactions: %w", err)
		}
	}
}

// decodeJSONRecord decodes one line strictly (unknown fields are refused,
// as the API refuses them), returning the field and reason when it cannot.
func decodeJSONRecord(line []byte) (*Record, string, string) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return nil, jsonField(err), jsonReason(err)
	}
	strict := func(v any) error {
		d := json.NewDecoder(bytes.NewReader(line))
		d.DisallowUnknownFields()
		return d.Decode(v)
	}
	switch Kind(strings.ToLower(head.Type)) {
	case "", Sale:
		var s jsonSale
		if err := strict(&s); err != nil {
			return nil, jsonField(err), jsonReason(err)
		}
		return &Record{Kind: Sale, At: s.Time.UTC(), Sale: &s.Request, Given: s.Applied}, "", ""
	case Return:
		var r jsonReturn
		if err := strict(&r); err != nil {
			return nil, jsonField(err), jsonReason(err)
		}
		return &Record{Kind: Return, At: r.Time.UTC(), Return: &r.ReturnRequest}, "", ""
	case Void:
		var v jsonVoid
		if err := strict(&v); err != nil {
			return nil, jsonField(err), jsonReason(err)
		}
		return &Record{Kind: Void, At: v.Time.UTC(), Void: &v.VoidRequest}, "", ""
	}
	return nil, "type", fmt.Sprintf("%q is not sale, return or void", head.Type)
}

func jsonField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// Fields of the embedded API request are named as the API names them.
		f := strings.TrimPrefix(te.Field, "Request.")
		f = strings.TrimPrefix(f, "ReturnRequest.")
		return strings.TrimPrefix(f, "VoidRequest.")
	}
	return ""
}

func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field == "items.quantity" || strings.HasSuffix(te.Field, ".quantity") {
			return "the quantity is not a number"
		}
		return fmt.Sprintf("a %s where the field wants %s", te.Value, te.Type)
	case errors.As(err, &se):
		return fmt.Sprintf("not JSON (%v)", se)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return err.Error()
}
