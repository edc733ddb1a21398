package event

import (
	"encoding/json"

	"github.com/perk-platform/perk/internal/jsonscan"
)

// decodeFast reads the batches apps, tills and /perk.js actually send
// (`{"events":[...]}` whose events carry only the documented keys, in
// lower case, with strings free of escapes) in one pass over the body,
// without reflection: encoding/json's Decoder read every byte twice (once
// to find the value's end, once to decode it) and set each field by
// reflection, a fifth of the server's CPU per event on PostgreSQL.
//
// It gives exactly what decodeWhole gives, or ok false for any body it does
// not handle so (another key, an escape, a null, invalid UTF-8, a malformed
// value): Decode then takes the general path, which explains a bad event.
// FuzzEvents holds the two to the same answer.
func decodeFast(body []byte) (evs []wire, ok bool) {
	p := fastParser{Scanner: jsonscan.Scanner{B: body}}
	if !p.Byte('{') || !p.key() || p.last != `events` || !p.Byte(':') || !p.Byte('[') {
		return nil, false
	}
	evs = make([]wire, 0, min(MaxBatch, len(body)/64+1))
	if p.Peek() == ']' {
		p.I++
	} else {
		for {
			var w wire
			if !p.event(&w) {
				return nil, false
			}
			evs = append(evs, w)
			if p.Peek() == ',' {
				p.I++
				continue
			}
			if !p.Byte(']') {
				return nil, false
			}
			break
		}
	}
	if !p.Byte('}') {
		return nil, false
	}
	p.Space()
	return evs, p.I == len(body)
}

// fastParser walks a body.
type fastParser struct {
	jsonscan.Scanner
	last string // the last key read, only while it is one of ours
}

// key reads `"name":`'s name into last when it is one of wire's keys
// exactly (encoding/json would also match other cases: left to it).
func (p *fastParser) key() bool {
	k, ok := p.Str()
	if !ok {
		return false
	}
	switch string(k) { // no allocation: the compiler compares in place
	case "events":
		p.last = "events"
	case "event_id":
		p.last = "event_id"
	case "type":
		p.last = "type"
	case "time":
		p.last = "time"
	case "anonymous_id":
		p.last = "anonymous_id"
	case "member":
		p.last = "member"
	case "channel":
		p.last = "channel"
	case "session_id":
		p.last = "session_id"
	case "properties":
		p.last = "properties"
	case "identify_token":
		p.last = "identify_token"
	default:
		return false
	}
	return true
}

// event reads one event object into w.
func (p *fastParser) event(w *wire) bool {
	if !p.Byte('{') {
		return false
	}
	if p.Peek() == '}' {
		p.I++
		return true
	}
	for {
		if !p.key() || !p.Byte(':') || !p.field(w) {
			return false
		}
		switch p.Peek() {
		case ',':
			p.I++
		case '}':
			p.I++
			return true
		default:
			return false
		}
	}
}

// field reads the value of key p.last into w; a later duplicate key wins,
// as with encoding/json.
func (p *fastParser) field(w *wire) bool {
	switch p.last {
	case "properties":
		p.Space()
		start := p.I
		if p.Peek() == 'n' || !p.skip() {
			return false // null: left to encoding/json's rules
		}
		raw := p.B[start:p.I]
		if !json.Valid(raw) {
			return false
		}
		// A copy, as encoding/json makes, so that the events do not
		// hold on to the body, which a caller may reuse.
		w.Properties = append(json.RawMessage(nil), raw...)
		return true
	case "time":
		p.Space()
		start := p.I
		if _, ok := p.Str(); !ok {
			return false
		}
		return w.Time.UnmarshalJSON(p.B[start:p.I]) == nil
	}
	s, ok := p.Str()
	if !ok {
		return false
	}
	switch p.last {
	case "event_id":
		w.EventID = string(s)
	case "type":
		w.Type = internType(s)
	case "anonymous_id":
		w.AnonymousID = string(s)
	case "member":
		w.Member = string(s)
	case "channel":
		w.Channel = internChannel(s)
	case "session_id":
		w.SessionID = string(s)
	case "identify_token":
		w.IdentifyToken = string(s)
	default:
		return false // "events" inside an event
	}
	return true
}

// skip moves past one JSON value, trusting json.Valid to check it: it only
// finds where the value ends (strings may hold escapes here).
func (p *fastParser) skip() bool {
	switch p.Peek() {
	case '"':
		for p.I++; p.I < len(p.B); p.I++ {
			switch p.B[p.I] {
			case '\\':
				p.I++
			case '"':
				p.I++
				return true
			}
		}
		return false
	case '{', '[':
		depth := 0
		for ; p.I < len(p.B); p.I++ {
			switch p.B[p.I] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					p.I++
					return true
				}
			case '"':
				if !p.skip() {
					return false
				}
				p.I-- // the loop's p.I++ moves past the closing quote
			}
		}
		return false
	case 0:
		return false
	}
	// A number or a literal: up to the next delimiter.
	start := p.I
	for p.I < len(p.B) {
		switch p.B[p.I] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return p.I > start
		}
		p.I++
	}
	return p.I > start
}

// internType returns the standard types without allocating.
func internType(s []byte) string {
	switch string(s) {
	case PageViewed:
		return PageViewed
	case ProductViewed:
		return ProductViewed
	case CartUpdated:
		return CartUpdated
	case CheckoutStarted:
		return CheckoutStarted
	case OrderPlaced:
		return OrderPlaced
	case AppOpened:
		return AppOpened
	case AppInstalled:
		return AppInstalled
	case Identified:
		return Identified
	}
	return string(s)
}

// internChannel returns the channels without allocating.
func internChannel(s []byte) Channel {
	for _, c := range Channels {
		if string(s) == string(c) {
			return c
		}
	}
	return Channel(s)
}

// fastProps checks the properties of a standard type the way standard's
// validators do, for the properties senders usually write (an object with
// the type's own keys once each, strings without escapes, integers as
// plain digits): ok is true only when they are good. Anything else, or any
// mistake, is left to the validator, which says what is wrong.
func fastProps(typ string, raw []byte) (c common, ok bool) {
	p := fastParser{Scanner: jsonscan.Scanner{B: raw}}
	var (
		seen             uint32 // the keys read, one bit each: a repeat is left to encoding/json
		url, path, sku   bool   // page_viewed needs url or path, product_viewed sku
		total, items     bool   // present
		cartType, orderT = typ == CartUpdated || typ == CheckoutStarted || typ == OrderPlaced, typ == OrderPlaced
	)
	if !p.Byte('{') {
		return c, false
	}
	if p.Peek() == '}' {
		p.I++
	} else {
		for {
			k, ok := p.Str()
			if !ok || !p.Byte(':') {
				return c, false
			}
			bit, kind := propKey(typ, k)
			if kind == 0 || seen&bit != 0 {
				return c, false
			}
			seen |= bit
			switch kind {
			case kindString:
				s, ok := p.Str()
				if !ok {
					return c, false
				}
				switch string(k) {
				case "campaign":
					c.Campaign = string(s)
				case "store":
					c.Store = string(s)
				case "order_id":
					c.OrderID = string(s)
				case "url":
					url = len(s) > 0
				case "path":
					path = len(s) > 0
				case "sku":
					sku = len(s) > 0
				}
			case kindInt:
				n, ok := p.integer()
				if !ok || n < 0 {
					return c, false
				}
				total = total || (cartType && string(k) == "total")
			case kindItems:
				if !p.items() {
					return c, false
				}
				items = true
			}
			if p.Peek() == ',' {
				p.I++
				continue
			}
			if !p.Byte('}') {
				return c, false
			}
			break
		}
	}
	p.Space()
	if p.I != len(raw) {
		return c, false
	}
	switch {
	case typ == PageViewed:
		return c, url || path
	case typ == ProductViewed:
		return c, sku
	case typ == CartUpdated:
		return c, items
	case orderT:
		return c, c.OrderID != "" && total
	}
	return c, true
}

// Kinds of property values fastProps reads.
const (
	kindString = 1 + iota
	kindInt    // a non-negative integer (a price, a total)
	kindItems  // a cart's lines
)

// propKey says what kind of value key k of type typ holds, and its bit in
// fastProps' seen; kind 0 for a key the type does not have.
func propKey(typ string, k []byte) (bit uint32, kind int) {
	switch string(k) {
	case "campaign":
		return 1 << 0, kindString
	case "store":
		return 1 << 1, kindString
	case "order_id":
		return 1 << 2, kindString
	}
	switch typ {
	case PageViewed:
		switch string(k) {
		case "url":
			return 1 << 3, kindString
		case "path":
			return 1 << 4, kindString
		case "title":
			return 1 << 5, kindString
		case "referrer":
			return 1 << 6, kindString
		}
	case ProductViewed:
		switch string(k) {
		case "sku":
			return 1 << 3, kindString
		case "name":
			return 1 << 4, kindString
		case "category":
			return 1 << 5, kindString
		case "currency":
			return 1 << 6, kindString
		case "price":
			return 1 << 7, kindInt
		}
	case CartUpdated, CheckoutStarted, OrderPlaced:
		switch string(k) {
		case "cart_id":
			return 1 << 3, kindString
		case "currency":
			return 1 << 4, kindString
		case "total":
			return 1 << 5, kindInt
		case "items":
			return 1 << 6, kindItems
		}
	case AppOpened, AppInstalled:
		switch string(k) {
		case "app_version":
			return 1 << 3, kindString
		case "os":
			return 1 << 4, kindString
		case "os_version":
			return 1 << 5, kindString
		}
	}
	return 0, 0
}

// integer reads a JSON integer that fits an int64 (no fraction, no
// exponent: encoding/json refuses those for an int64 too).
func (p *fastParser) integer() (int64, bool) {
	p.Space()
	start := p.I
	if p.I < len(p.B) && p.B[p.I] == '-' {
		p.I++
	}
	digits := p.I
	for p.I < len(p.B) && p.B[p.I] >= '0' && p.B[p.I] <= '9' {
		p.I++
	}
	switch {
	case p.I == digits, p.B[digits] == '0' && p.I-digits > 1, p.I-digits > 18:
		return 0, false // none, a leading zero, or maybe too big for int64
	}
	var n int64
	for _, d := range p.B[digits:p.I] {
		n = n*10 + int64(d-'0')
	}
	if p.B[start] == '-' {
		n = -n
	}
	return n, true
}

// items reads a cart's lines and checks each as cart does: sku given,
// quantity at least 1, price not negative.
func (p *fastParser) items() bool {
	if !p.Byte('[') {
		return false
	}
	if p.Peek() == ']' {
		p.I++
		return true
	}
	for {
		if !p.item() {
			return false
		}
		if p.Peek() == ',' {
			p.I++
			continue
		}
		return p.Byte(']')
	}
}

func (p *fastParser) item() bool {
	if !p.Byte('{') {
		return false
	}
	var seen uint8
	var sku bool
	var quantity int64
	if p.Peek() == '}' {
		p.I++
		return false // no sku: the validator says so
	}
	for {
		k, ok := p.Str()
		if !ok || !p.Byte(':') {
			return false
		}
		var bit uint8
		switch string(k) {
		case "sku", "name":
			bit = 1
			if string(k) == "name" {
				bit = 2
			}
			s, ok := p.Str()
			if !ok {
				return false
			}
			if bit == 1 {
				sku = len(s) > 0
			}
		case "quantity", "price":
			bit = 4
			if string(k) == "price" {
				bit = 8
			}
			n, ok := p.integer()
			if !ok {
				return false
			}
			if bit == 4 {
				quantity = n
			} else if n < 0 {
				return false
			}
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch p.Peek() {
		case ',':
			p.I++
		case '}':
			p.I++
			return sku && quantity > 0
		default:
			return false
		}
	}
}
