package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestServe_CartAbandonAfterRaisesCartAbandoned: perk serve's
// --cart-abandon-after reaches the runner: a member's cart with no purchase
// becomes cart_abandoned on their timeline after that time, not the default
// two hours, and enters the built-in abandonment journey perk serve
// installs.
func TestServe_CartAbandonAfterRaisesCartAbandoned(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + t.TempDir(), "PERK_LOG_LEVEL=warn"}
			out, stderr, err := perk(t, env, "keys", "create", "--role", "admin")
			if err != nil {
				t.Fatalf("keys create: %v\n%s", err, stderr)
			}
			key := strings.TrimSpace(out)
			url, _ := serve(t, env, "--addr", "127.0.0.1:0", "--cart-abandon-after", "1s")
			var ann struct{ ID string }
			if st := api(t, "POST", url+"/v1/members", key,
				map[string]any{"phone": "07700 900301", "consent": map[string]any{"sms": true, "source": "test"}}, &ann); st != 201 {
				t.Fatalf("enrol: %d", st)
			}
			cart := fmt.Sprintf(`{"events":[{"event_id":"cart-1","type":"cart_updated","time":%q,"member":%q,"channel":"web",
				"properties":{"items":[{"sku":"COF-250","quantity":1,"price":350}]}}]}`, time.Now().UTC().Format(time.RFC3339), ann.ID)
			if st := api(t, "POST", url+"/v1/events", key, []byte(cart), nil); st >= 300 {
				t.Fatalf("events: %d", st)
			}
			types := func() []string {
				var tl struct {
					Events []struct{ Type string } `json:"events"`
				}
				api(t, "GET", url+"/v1/members/"+ann.ID+"/timeline", key, nil, &tl)
				var got []string
				for _, e := range tl.Events {
					got = append(got, e.Type)
				}
				return got
			}
			until(t, "cart_abandoned on the timeline", time.Minute, func() bool {
				return strings.Contains(strings.Join(types(), " "), "cart_abandoned")
			})
			// The built-in abandonment journey, installed live by perk
			// serve, takes her in (treated or held out: her id decides).
			until(t, "Ann in the built-in abandonment journey", time.Minute, func() bool {
				var c struct {
					Status  string `json:"status"`
					Entered int    `json:"entered"`
				}
				return api(t, "GET", url+"/v1/journeys/cart-abandonment/counts", key, nil, &c) == 200 && c.Status == "live" && c.Entered == 1
			})
		})
	}
}
