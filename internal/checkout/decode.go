package checkout

import (
	"strconv"

	"github.com/perk-platform/perk/internal/jsonscan"
)

// DecodeRequest reads the JSON body of an evaluate or a commit in one pass,
// for the shape tills send: an object with the Request's and Item's own
// field names, each at most once; strings without escapes, holding no
// control character and valid UTF-8; whole numbers; quantities as
// Item.UnmarshalJSON reads them. Decoding a basket through encoding/json
// and its reflection cost a till's evaluate more CPU than matching it
// against every live campaign.
//
// For any other body (escapes, nulls, an unknown, repeated or differently
// cased field, a decimal where a whole number goes, bad syntax, text
// after the object) it returns false and decodes nothing: the caller then
// decodes b with encoding/json, whose value or precise error is the API's
// answer. When it returns true, the Request equals encoding/json's (strict,
// unknown fields refused) and its strings are text that can be stored
// (FuzzDecodeCheckoutFast holds it to both).
func DecodeRequest(b []byte) (Request, bool) {
	d := fastDecoder{jsonscan.Scanner{B: b}}
	req, ok := d.request()
	if !ok {
		return Request{}, false
	}
	d.Space()
	return req, d.I == len(d.B)
}

// fastDecoder is DecodeRequest's cursor over the body.
type fastDecoder struct{ jsonscan.Scanner }

// fields notes the fields of an object read so far, one bit each.
type fields uint

// once notes field bit and reports whether it is new: a field given twice
// is left to encoding/json (the last one wins there).
func (f *fields) once(bit fields) bool {
	if *f&bit != 0 {
		return false
	}
	*f |= bit
	return true
}

// object calls field for each key of an object, the cursor on its value;
// a key seen twice, or one field does not take, fails it.
func (d *fastDecoder) object(field func(key []byte) bool) bool {
	if !d.Byte('{') {
		return false
	}
	if d.Byte('}') {
		return true
	}
	for {
		key, ok := d.Str()
		if !ok || !d.Byte(':') || !field(key) {
			return false
		}
		if d.Byte('}') {
			return true
		}
		if !d.Byte(',') {
			return false
		}
	}
}

func (d *fastDecoder) str(dst *string) bool {
	s, ok := d.Str()
	*dst = string(s)
	return ok
}

// int64 reads a whole number; a decimal, an exponent or a value out of
// range is encoding/json's type error to report.
func (d *fastDecoder) int64(dst *int64) bool {
	n, ok := d.Number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	*dst = v
	return err == nil
}

func (d *fastDecoder) int(dst *int) bool {
	var v int64
	ok := d.int64(&v) && int64(int(v)) == v
	*dst = int(v)
	return ok
}

// array calls elem for each value of an array; [] gives a non-nil empty
// slice in encoding/json, so empty says whether it was one.
func (d *fastDecoder) array(elem func() bool) (empty, ok bool) {
	if !d.Byte('[') {
		return false, false
	}
	if d.Byte(']') {
		return true, true
	}
	for {
		if !elem() {
			return false, false
		}
		if d.Byte(']') {
			return false, true
		}
		if !d.Byte(',') {
			return false, false
		}
	}
}

func (d *fastDecoder) request() (Request, bool) {
	var r Request
	var seen fields
	once := seen.once
	ok := d.object(func(key []byte) bool {
		switch string(key) {
		case "store":
			return once(1) && d.str(&r.Store)
		case "terminal":
			return once(2) && d.str(&r.Terminal)
		case "member":
			var m string
			r.Member = &m
			return once(4) && d.str(&m)
		case "currency":
			return once(8) && d.str(&r.Currency)
		case "items":
			if !once(16) {
				return false
			}
			empty, ok := d.array(func() bool {
				it, ok := d.item()
				r.Items = append(r.Items, it)
				return ok
			})
			if empty {
				r.Items = []Item{}
			}
			return ok
		case "transaction_id":
			return once(32) && d.str(&r.TransactionID)
		case "redeem_points":
			return once(64) && d.int64(&r.RedeemPoints)
		case "order_id":
			return once(128) && d.str(&r.OrderID)
		}
		return false
	})
	return r, ok
}

func (d *fastDecoder) item() (Item, bool) {
	var it Item
	var quantity []byte
	var seen fields
	once := seen.once
	ok := d.object(func(key []byte) bool {
		switch string(key) {
		case "line":
			return once(1) && d.int(&it.Line)
		case "sku":
			return once(2) && d.str(&it.SKU)
		case "barcode":
			return once(4) && d.str(&it.Barcode)
		case "categories":
			if !once(8) {
				return false
			}
			empty, ok := d.array(func() bool {
				var c string
				ok := d.str(&c)
				it.Categories = append(it.Categories, c)
				return ok
			})
			if empty {
				it.Categories = []string{}
			}
			return ok
		case "quantity":
			if !once(16) {
				return false
			}
			d.Space()
			if d.I < len(d.B) && d.B[d.I] == '"' {
				start := d.I
				_, ok := d.Str()
				quantity = d.B[start:d.I]
				return ok
			}
			n, ok := d.Number()
			quantity = n
			return ok
		case "unit":
			return once(32) && d.str(&it.Unit)
		case "unit_price":
			return once(64) && d.int64(&it.UnitPrice)
		}
		return false
	})
	if !ok {
		return it, false
	}
	q, m, err := parseQuantityJSON(quantity, it.Unit != "")
	it.Quantity, it.Measure = q, m
	return it, err == nil
}
