package checkout

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"

	"github.com/perk-platform/perk/internal/catalogue"
)

// itemJSON is Item on the wire. Its field order and omissions are those of
// the Item before weighed goods, so a whole-unit line encodes (and so
// hashes, for a commit's idempotency) exactly as it always did.
type itemJSON struct {
	Line       int             `json:"line"`
	SKU        string          `json:"sku"`
	Barcode    string          `json:"barcode,omitempty"`
	Categories []string        `json:"categories,omitempty"`
	Quantity   json.RawMessage `json:"quantity"`
	Unit       string          `json:"unit,omitempty"`
	UnitPrice  int64           `json:"unit_price"`
}

// MarshalJSON writes a measured quantity as a decimal string ("0.750") and
// a whole one as a number.
func (it Item) MarshalJSON() ([]byte, error) {
	w := itemJSON{Line: it.Line, SKU: it.SKU, Barcode: it.Barcode, Categories: it.Categories, Unit: it.Unit, UnitPrice: it.UnitPrice}
	w.Quantity = quantityJSON(it.Quantity, it.Measure)
	return json.Marshal(w)
}

// UnmarshalJSON reads a line, refusing unknown fields as the API does. The
// quantity is a number, or a decimal string when the line names its unit
// ("quantity":"0.750","unit":"kg"); a number with decimals is read exactly.
func (it *Item) UnmarshalJSON(b []byte) error {
	var w itemJSON
	if err := strictDecode(b, &w); err != nil {
		return err
	}
	q, m, err := parseQuantityJSON(w.Quantity, w.Unit != "")
	if err != nil {
		return err
	}
	*it = Item{Line: w.Line, SKU: w.SKU, Barcode: w.Barcode, Categories: w.Categories, Quantity: q, Measure: m, Unit: w.Unit, UnitPrice: w.UnitPrice}
	return nil
}

type returnItemJSON struct {
	Line     int             `json:"line"`
	Quantity json.RawMessage `json:"quantity"`
}

// MarshalJSON is as Item's.
func (it ReturnItem) MarshalJSON() ([]byte, error) {
	return json.Marshal(returnItemJSON{Line: it.Line, Quantity: quantityJSON(it.Quantity, it.Measure)})
}

// UnmarshalJSON reads a returned line; a quantity of a weighed line may
// have decimals, as a number or a string.
func (it *ReturnItem) UnmarshalJSON(b []byte) error {
	var w returnItemJSON
	if err := strictDecode(b, &w); err != nil {
		return err
	}
	q, m, err := parseQuantityJSON(w.Quantity, true)
	if err != nil {
		return err
	}
	*it = ReturnItem{Line: w.Line, Quantity: q, Measure: m}
	return nil
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func quantityJSON(q int, m catalogue.Quantity) json.RawMessage {
	if m != 0 {
		return json.RawMessage(`"` + m.String() + `"`)
	}
	return strconv.AppendInt(nil, int64(q), 10)
}

// parseQuantityJSON reads a quantity: a whole number gives q (any size, for
// the range check to refuse with its field); a decimal gives m, in
// thousandths, and q 0. A string is taken only when allowed (the line names
// a unit). Anything else is the decoder's type error on "quantity", a 400.
func parseQuantityJSON(raw json.RawMessage, strings bool) (q int, m catalogue.Quantity, err error) {
	bad := func(what string) error {
		return &json.UnmarshalTypeError{Value: what, Type: reflect.TypeFor[int](), Field: "quantity"}
	}
	if len(raw) == 0 || string(raw) == "null" {
		return 0, 0, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if !strings {
			return 0, 0, bad("string")
		}
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, 0, bad("string")
		}
		m, err := catalogue.ParseQuantity(text)
		if err != nil {
			return 0, 0, bad("string " + strconv.Quote(text))
		}
		return 0, m, nil
	}
	if n, err := strconv.ParseInt(text, 10, 0); err == nil {
		return int(n), 0, nil
	}
	if raw[0] < '0' || raw[0] > '9' {
		return 0, 0, bad(kindOf(raw[0]))
	}
	m, err = catalogue.ParseQuantity(text)
	if err != nil {
		return 0, 0, bad("number " + text)
	}
	return 0, m, nil
}

func kindOf(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case '-':
		return "number"
	}
	return "value"
}
