package event

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecode_EachBadEventIsRejectedWithItsIndexAndReason(t *testing.T) {
	anon := map[string]string{"anonymous_id": "a1"}
	tests := []struct {
		name  string
		event string
		code  string
		field string
	}{
		{"good page view", ev("e1", PageViewed, 0, anon, `{"url":"https://shop.example/"}`), "", ""},
		{"good cart", ev("e1", CartUpdated, 0, anon, `{"items":[{"sku":"COF-1","quantity":2,"price":350}]}`), "", ""},
		{"emptied cart", ev("e1", CartUpdated, 0, anon, `{"items":[]}`), "", ""},
		{"good order", ev("e1", OrderPlaced, 0, anon, `{"order_id":"W-1","total":700,"campaign":"xmas"}`), "", ""},
		{"custom type", ev("e1", "acme.wishlist_added", 0, anon, `{"anything":[1,2]}`), "", ""},
		{"missing event_id", ev("", PageViewed, 0, anon, `{"url":"/"}`), "event_id_invalid", "event_id"},
		{"event_id in Perk's namespace", ev("perk:x", PageViewed, 0, anon, `{"url":"/"}`), "event_id_invalid", "event_id"},
		{"25 h in the future", ev("e1", PageViewed, 25*60, anon, `{"url":"/"}`), "time_in_future", "time"},
		{"23 h in the future is allowed", ev("e1", PageViewed, 23*60, anon, `{"url":"/"}`), "", ""},
		{"nobody", ev("e1", PageViewed, 0, nil, `{"url":"/"}`), "person_required", "anonymous_id"},
		{"unknown standard field", ev("e1", PageViewed, 0, anon, `{"url":"/","colour":"red"}`), "properties_invalid", "properties.colour"},
		{"price not in minor units", ev("e1", CartUpdated, 0, anon, `{"items":[{"sku":"A","quantity":1,"price":3.5}]}`), "properties_invalid", "properties.items.price"},
		{"zero quantity", ev("e1", CartUpdated, 0, anon, `{"items":[{"sku":"A","quantity":0,"price":1}]}`), "properties_invalid", "properties.items[0].quantity"},
		{"cart without items", ev("e1", CartUpdated, 0, anon, `{}`), "properties_invalid", "properties.items"},
		{"order without id", ev("e1", OrderPlaced, 0, anon, `{"total":5}`), "properties_invalid", "properties.order_id"},
		{"product without sku", ev("e1", ProductViewed, 0, anon, `{"name":"Coffee"}`), "properties_invalid", "properties.sku"},
		{"Perk's own type", ev("e1", LinkClicked, 0, anon, `{}`), "type_reserved", "type"},
		{"custom type without namespace", ev("e1", "wishlist_added", 0, anon, `{}`), "type_invalid", "type"},
		{"custom type in capitals", ev("e1", "Acme.Wish", 0, anon, `{}`), "type_invalid", "type"},
		{"custom properties not an object", ev("e1", "acme.x", 0, anon, `[1]`), "properties_invalid", "properties"},
		{"oversized properties", ev("e1", "acme.x", 0, anon, `{"x":"`+strings.Repeat("a", MaxProperties)+`"}`), "properties_too_large", "properties"},
		{"identify without anonymous id", ev("e1", Identified, 0, map[string]string{"member": "12345670"}, ``), "identify_incomplete", "member"},
		{"unknown top-level field", `{"event_id":"e1","type":"page_viewed","time":"2026-12-05T10:00:00Z","channel":"web","anonymous_id":"a","props":{}}`, "event_malformed", "props"},
		{"bad channel", `{"event_id":"e1","type":"page_viewed","time":"2026-12-05T10:00:00Z","channel":"fax","anonymous_id":"a","properties":{"url":"/"}}`, "channel_invalid", "channel"},
		{"no time", `{"event_id":"e1","type":"page_viewed","channel":"web","anonymous_id":"a","properties":{"url":"/"}}`, "time_required", "time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bad event sits between two good ones, which must survive.
			good := ev("g", PageViewed, 0, anon, `{"url":"/"}`)
			in, rej, err := Decode(batch(good, tt.event, strings.Replace(good, `"g"`, `"h"`, 1)), t0)
			if err != nil {
				t.Fatalf("batch refused: %v", err)
			}
			if tt.code == "" {
				if len(rej) != 0 || len(in) != 3 {
					t.Fatalf("want 3 kept, got %d kept, rejected %+v", len(in), rej)
				}
				return
			}
			if len(in) != 2 || len(rej) != 1 {
				t.Fatalf("want 2 kept and 1 rejected, got %d and %+v", len(in), rej)
			}
			if r := rej[0]; r.Index != 1 || r.Code != tt.code || r.Field != tt.field || r.Reason == "" {
				t.Errorf("rejection = %+v, want index 1, code %s, field %s", r, tt.code, tt.field)
			}
		})
	}
}

func TestDecode_BatchLevelErrors(t *testing.T) {
	tests := []struct {
		name, body, code string
	}{
		{"not JSON", `{`, "batch_invalid"},
		{"no events", `{}`, "batch_invalid"},
		{"an array", `[]`, "batch_invalid"},
		{"trailing data", `{"events":[]} {}`, "batch_invalid"},
		{"too many", `{"events":[` + strings.TrimSuffix(strings.Repeat(`{},`, MaxBatch+1), ",") + `]}`, "batch_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode([]byte(tt.body), t0)
			if err == nil || !strings.Contains(errCode(err), tt.code) {
				t.Fatalf("err = %v, want code %s", err, tt.code)
			}
		})
	}
}

func TestDecode_KeepsColumnsAndNormalisesTime(t *testing.T) {
	body := `{"events":[{"event_id":"e1","type":"order_placed","time":"2026-12-05T11:00:00.1234567+01:00","channel":"app",
		"member":"12345670","session_id":"s1","properties":{"order_id":"W-9","total":700,"campaign":"xmas","store":"S1"}}]}`
	in, rej, err := Decode([]byte(body), t0)
	if err != nil || len(rej) != 0 {
		t.Fatalf("decode: %v %v", err, rej)
	}
	e := in[0].Event
	want := time.Date(2026, 12, 5, 10, 0, 0, 123456000, time.UTC)
	if !e.Time.Equal(want) || e.Time.Location() != time.UTC {
		t.Errorf("time = %v, want %v UTC", e.Time, want)
	}
	if e.Campaign != "xmas" || e.Store != "S1" || e.OrderID != "W-9" || in[0].Member != "12345670" || e.Source != SourceAPI {
		t.Errorf("event = %+v", e)
	}
}

// TestDecodeFast_ReadsWhatEncodingJSONReadsOrLeavesTheBodyToIt holds the
// hand-written reading of a batch to encoding/json's: a body it takes gives
// the same events, and one it leaves (anything senders do not usually
// write) still gets encoding/json's answer through Decode.
func TestDecodeFast_ReadsWhatEncodingJSONReadsOrLeavesTheBodyToIt(t *testing.T) {
	tests := []struct {
		name string
		body string
		fast bool // the hand-written reading takes it
	}{
		{"the load generator's batch", string(benchBody(3)), true},
		{"white space everywhere", " {\n \"events\" : [ { \"event_id\" : \"e\" , \"type\":\"page_viewed\", \"time\" : \"2026-12-05T10:00:00Z\" ,\t\"channel\":\"web\",\"anonymous_id\":\"a\", \"properties\" : { \"url\" : \"/\" } } ] }\r\n", true},
		{"no events", `{"events":[]}`, true},
		{"an empty event", `{"events":[{}]}`, true},
		{"a key twice: the last wins", `{"events":[{"event_id":"a","event_id":"b","time":"2026-12-05T10:00:00Z","time":"2026-12-05T09:00:00+01:00"}]}`, true},
		{"UTF-8 in strings", `{"events":[{"event_id":"é","anonymous_id":"café ☕","channel":"web"}]}`, true},
		{"escapes and brackets inside properties' strings", `{"events":[{"event_id":"e","properties":{"title":"a \"quoted\" \\ ]} title","x":[1,{"y":"}"}]}}]}`, true},
		{"properties not an object", `{"events":[{"event_id":"a","properties":[1,{"a":[]}]},{"event_id":"b","properties":"s"},{"event_id":"c","properties":-12.5e3},{"event_id":"d","properties":true}]}`, true},
		{"a custom type and an unknown channel", `{"events":[{"event_id":"e","type":"acme.wish","channel":"fax","member":"12345670","identify_token":"v1.x","session_id":"s"}]}`, true},
		{"a key in capitals", `{"events":[{"Event_ID":"e"}]}`, false},
		{"an escape in a string", `{"events":[{"event_id":"a\u0041"}]}`, false},
		{"a null member", `{"events":[{"event_id":"e","member":null}]}`, false},
		{"null properties", `{"events":[{"event_id":"e","properties":null}]}`, false},
		{"invalid UTF-8", "{\"events\":[{\"event_id\":\"a\xff\"}]}", false},
		{"an unknown key", `{"events":[{"event_id":"e","props":{}}]}`, false},
		{"a bad time", `{"events":[{"event_id":"e","time":"yesterday"}]}`, false},
		{"a number for an id", `{"events":[{"event_id":7}]}`, false},
		{"malformed properties", `{"events":[{"event_id":"e","properties":{"a":}}]}`, false},
		{"a number with a leading zero", `{"events":[{"event_id":"e","properties":01}]}`, false},
		{"events inside an event", `{"events":[{"events":[]}]}`, false},
		{"events not a list", `{"events":{}}`, false},
		{"events null", `{"events":null}`, false},
		{"another top-level key", `{"events":[],"x":1}`, false},
		{"trailing bytes", `{"events":[]} x`, false},
		{"cut short", `{"events":[{"event_id":"e"`, false},
		{"a trailing comma", `{"events":[{"event_id":"e"},]}`, false},
		{"not an object", `[]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			fast, ok := decodeFast(body)
			if ok != tt.fast {
				t.Fatalf("decodeFast took it: %v, want %v", ok, tt.fast)
			}
			if ok {
				whole, wok := decodeWhole(body)
				if !wok || !reflect.DeepEqual(fast, whole) {
					t.Fatalf("differs from encoding/json (which took it: %v):\n%+v\n%+v", wok, fast, whole)
				}
			}
			in, rej, err := Decode(body, t0)
			in2, rej2, err2 := decodeEach(body, t0)
			if !reflect.DeepEqual(in, in2) || !reflect.DeepEqual(rej, rej2) || !reflect.DeepEqual(err, err2) {
				t.Fatalf("Decode differs from reading event by event:\n%+v %+v %v\n%+v %+v %v", in, rej, err, in2, rej2, err2)
			}
		})
	}
}

// TestFastProps_PassesOnlyWhatTheValidatorPasses lists properties the
// hand-written check passes (the validator must agree) and those it leaves
// to the validator (to reject, or to read in its more general way).
func TestFastProps_PassesOnlyWhatTheValidatorPasses(t *testing.T) {
	tests := []struct {
		typ, raw string
		fast     bool
	}{
		{PageViewed, `{"url":"https://shop.example/","title":"Coffee & tea","campaign":"xmas","store":"S1"}`, true},
		{PageViewed, ` { "path" : "/p/1" } `, true},
		{PageViewed, `{"title":"no url nor path"}`, false},
		{PageViewed, `{"url":""}`, false},
		{PageViewed, `{"url":"/","colour":"red"}`, false},
		{PageViewed, `{"url":"/","URL":"/x"}`, false},
		{PageViewed, `{"url":"/","url":"/"}`, false},
		{ProductViewed, `{"sku":"A","price":350,"currency":"GBP","name":"Beans","category":"coffee"}`, true},
		{ProductViewed, `{"sku":"A","price":-1}`, false},
		{ProductViewed, `{"sku":"A","price":3.5}`, false},
		{ProductViewed, `{"sku":"A","price":1e2}`, false},
		{ProductViewed, `{"sku":"A","price":012}`, false},
		{ProductViewed, `{"sku":"A","price":null}`, false},
		{ProductViewed, `{"sku":"A","price":99999999999999999999}`, false},
		{ProductViewed, `{"name":"no sku"}`, false},
		{CartUpdated, `{"items":[{"sku":"A","quantity":2,"price":350,"name":"Beans"},{"sku":"B","quantity":1,"price":0}],"cart_id":"c1","total":700}`, true},
		{CartUpdated, `{"items":[]}`, true},
		{CartUpdated, `{}`, false},
		{CartUpdated, `{"items":[{"sku":"A","quantity":0,"price":1}]}`, false},
		{CartUpdated, `{"items":[{"sku":"","quantity":1,"price":1}]}`, false},
		{CartUpdated, `{"items":[{"sku":"A","quantity":1,"price":-1}]}`, false},
		{CartUpdated, `{"items":[{"sku":"A","quantity":1,"colour":"red"}]}`, false},
		{CartUpdated, `{"items":[{}]}`, false},
		{CheckoutStarted, `{}`, true},
		{OrderPlaced, `{"order_id":"W-1","total":700,"items":[{"sku":"A","quantity":1,"price":700}]}`, true},
		{OrderPlaced, `{"order_id":"W-1"}`, false},
		{OrderPlaced, `{"total":5}`, false},
		{AppOpened, `{"app_version":"2.1","os":"android","os_version":"15"}`, true},
		{AppInstalled, `{"os":7}`, false},
		{Identified, `{"campaign":"xmas"}`, true},
		{Identified, `{"url":"/"}`, false},
		{PageViewed, `{"url":"caf\u00e9"}`, false},
		{PageViewed, `{"url":"/"} x`, false},
		{PageViewed, `[{"url":"/"}]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.raw, func(t *testing.T) {
			c, ok := fastProps(tt.typ, []byte(tt.raw))
			if ok != tt.fast {
				t.Fatalf("fastProps passed it: %v, want %v", ok, tt.fast)
			}
			if !ok {
				return
			}
			want, err := standard[tt.typ]([]byte(tt.raw))
			if err != nil || c != want {
				t.Fatalf("fastProps gives %+v, the validator %+v, %v", c, want, err)
			}
		})
	}
}
