package event

import (
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
