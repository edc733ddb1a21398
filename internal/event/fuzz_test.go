package event

import (
	"errors"
	"reflect"
	"testing"

	"github.com/perk-platform/perk/internal/problem"
)

func errCode(err error) string {
	var p *problem.Error
	if errors.As(err, &p) {
		return p.Code
	}
	return err.Error()
}

// FuzzEvents feeds arbitrary bodies to the batch decoder: it must never
// panic, every event is either kept or rejected exactly once, and what it
// keeps satisfies the contract; the one-pass reading of a well-formed batch
// gives exactly what reading it event by event gives, and the hand-written
// reading (fastdecode.go), when it takes a body, what encoding/json gives.
func FuzzEvents(f *testing.F) {
	f.Add([]byte(batch(ev("e1", PageViewed, 0, map[string]string{"anonymous_id": "a"}, `{"url":"/"}`))))
	f.Add([]byte(batch(ev("e1", CartUpdated, 0, map[string]string{"member": "12345670"}, `{"items":[{"sku":"A","quantity":1,"price":1}]}`))))
	f.Add([]byte(`{"events":[{},{"event_id":"x"},null,1,"s"]}`))
	f.Add([]byte(`{"events":[{"event_id":"e","type":"acme.x","time":"2026-12-05T10:00:00Z","channel":"pos","anonymous_id":"a","properties":{"campaign":7}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, rej, err := Decode(body, t0)
		if fast, ok := decodeFast(body); ok {
			whole, ok := decodeWhole(body)
			if !ok || !reflect.DeepEqual(fast, whole) {
				t.Fatalf("the hand-written reading differs from encoding/json's (ok %v):\n%+v\n%+v", ok, fast, whole)
			}
		}
		if _, whole := decodeWhole(body); whole {
			in2, rej2, err2 := decodeEach(body, t0)
			if !reflect.DeepEqual(in, in2) || !reflect.DeepEqual(rej, rej2) || !reflect.DeepEqual(err, err2) {
				t.Fatalf("one pass and event by event differ:\n%+v %+v %v\n%+v %+v %v", in, rej, err, in2, rej2, err2)
			}
		}
		if err != nil {
			if in != nil || rej != nil {
				t.Fatal("a refused batch returned events")
			}
			return
		}
		seen := map[int]bool{}
		for _, x := range in {
			seen[x.Index] = true
			e := x.Event
			if e.EventID == "" || e.Time.IsZero() || e.Time.After(t0.Add(MaxFuture)) || !validChannel(e.Channel) ||
				(e.AnonymousID == "" && x.Member == "") || len(e.Properties) == 0 || reserved(e.Type) {
				t.Fatalf("kept an event that breaks the contract: %+v", x)
			}
		}
		for _, r := range rej {
			if seen[r.Index] || r.Code == "" || r.Reason == "" {
				t.Fatalf("bad rejection %+v", r)
			}
			seen[r.Index] = true
		}
	})
}

// FuzzStandardProperties holds the hand-written check of a standard type's
// properties (fastProps) to the validator's: what it passes, the validator
// passes too, with the same columns.
func FuzzStandardProperties(f *testing.F) {
	types := []string{PageViewed, ProductViewed, CartUpdated, CheckoutStarted, OrderPlaced, AppOpened, AppInstalled, Identified}
	for i, raw := range []string{`{"url":"/"}`, `{"sku":"A","price":0}`, `{"items":[{"sku":"A","quantity":1,"price":1}],"campaign":"c"}`,
		`{}`, `{"order_id":"W","total":5,"store":"s"}`, `{"os":"ios"}`, `{"app_version":"1"}`, `{"campaign":"x"}`} {
		f.Add(uint8(i), []byte(raw))
	}
	f.Fuzz(func(t *testing.T, which uint8, raw []byte) {
		typ := types[int(which)%len(types)]
		c, ok := fastProps(typ, raw)
		if !ok {
			return
		}
		want, err := standard[typ](raw)
		if err != nil || c != want {
			t.Fatalf("%s %s: fastProps passed %+v, the validator says %+v, %v", typ, raw, c, want, err)
		}
	})
}
