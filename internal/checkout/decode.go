package checkout

import (
	"strconv"
	"unicode/utf8"
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
	d := fastDecoder{b: b}
	req, ok := d.request()
	if !ok {
		return Request{}, false
	}
	d.space()
	return req, d.i == len(d.b)
}

// fastDecoder is DecodeRequest's cursor over the body.
type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips white space and consumes c if it comes next.
func (d *fastDecoder) next(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object calls field for each key of an object, the cursor on its value;
// a key seen twice, or one field does not take, fails it.
func (d *fastDecoder) object(field func(key []byte) bool) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	for {
		key, ok := d.raw()
		if !ok || !d.next(':') || !field(key) {
			return false
		}
		if d.next('}') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// raw reads a string without escapes and returns its bytes.
func (d *fastDecoder) raw() ([]byte, bool) {
	if !d.next('"') {
		return nil, false
	}
	start, ascii := d.i, true
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			return s, ascii || utf8.Valid(s)
		case c < 0x20 || c == '\\':
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

func (d *fastDecoder) str(dst *string) bool {
	s, ok := d.raw()
	*dst = string(s)
	return ok
}

// number reads a JSON number and returns its text.
func (d *fastDecoder) number() ([]byte, bool) {
	d.space()
	b, start := d.b, d.i
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	d.i = i
	return b[start:i], true
}

// int64 reads a whole number; a decimal, an exponent or a value out of
// range is encoding/json's type error to report.
func (d *fastDecoder) int64(dst *int64) bool {
	n, ok := d.number()
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
	if !d.next('[') {
		return false, false
	}
	if d.next(']') {
		return true, true
	}
	for {
		if !elem() {
			return false, false
		}
		if d.next(']') {
			return false, true
		}
		if !d.next(',') {
			return false, false
		}
	}
}

func (d *fastDecoder) request() (Request, bool) {
	var r Request
	var seen uint
	once := func(bit uint) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
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
	var seen uint
	once := func(bit uint) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
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
			d.space()
			if d.i < len(d.b) && d.b[d.i] == '"' {
				start := d.i
				_, ok := d.raw()
				quantity = d.b[start:d.i]
				return ok
			}
			n, ok := d.number()
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
