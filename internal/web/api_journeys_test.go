package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/web"
)

// A journey is defined, launched and counted through the API; its runner
// (here polled by the test, a goroutine in perk serve) acts on the events
// the API takes.
func TestAPI_JourneysDefineLaunchAndCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := testenv.NewClock(eventsNow)
		js := journey.NewService(db, journey.Options{Now: clock.Now})
		e := newEnv(t, db, func(o *web.Options) { o.Now, o.Journeys = clock.Now, js })
		def := `{"name":"cart","trigger":{"event":"cart_updated"},"goal":{"event":"order_placed"},
			"steps":[{"id":"pause","wait":"2h"},{"id":"text","sms":"Your basket is waiting, {{.FirstName}}"}]}`
		for _, st := range []struct {
			say, method, path string
			role              auth.Role
			body              string
			status            int
			has               string
		}{
			{"a reporting key may not define", "PUT", "/v1/journeys/cart", auth.RoleReporting, def, 403, ""},
			{"a bad wait names its step", "PUT", "/v1/journeys/cart", auth.RoleManager, strings.Replace(def, `"2h"`, `"-2h"`, 1), 422, `"field":"steps[0].wait"`},
			{"the name must match the path", "PUT", "/v1/journeys/other", auth.RoleManager, def, 422, "name_mismatch"},
			{"define", "PUT", "/v1/journeys/cart", auth.RoleManager, def, 200, `"outcome":"created"`},
			{"again: unchanged", "PUT", "/v1/journeys/cart", auth.RoleManager, def, 200, `"outcome":"unchanged"`},
			{"an edit is version 2", "PUT", "/v1/journeys/cart", auth.RoleManager, strings.Replace(def, "waiting", "still waiting", 1), 200, `"version":2`},
			{"list", "GET", "/v1/journeys", auth.RoleReporting, "", 200, `"name":"cart"`},
			{"unknown", "GET", "/v1/journeys/tea", auth.RoleReporting, "", 404, "journey_not_found"},
			{"stop a draft", "POST", "/v1/journeys/cart/stop", auth.RoleManager, "", 409, "journey_status"},
			{"launch", "POST", "/v1/journeys/cart/launch", auth.RoleManager, "", 200, `"status":"live"`},
		} {
			status, body, _ := e.do(st.method, st.path, st.role, st.body)
			if status != st.status || !strings.Contains(string(body), st.has) {
				t.Errorf("%s: %d %s", st.say, status, body)
			}
		}
		ann := e.enrol("+447700900123")
		events := `{"events":[` + eventJSON("c1", "cart_updated", 0, `"member":"`+ann.ID+`"`, `{"items":[{"sku":"COF","quantity":1,"price":350}]}`) + `]}`
		if st, b, _ := e.do("POST", "/v1/events", auth.RolePOS, events); st != 200 || !strings.Contains(string(b), `"accepted":1`) {
			t.Fatalf("events: %d %s", st, b)
		}
		if err := js.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		st, b, _ := e.do("GET", "/v1/journeys/cart/counts", auth.RoleReporting, nil)
		if st != 200 || !strings.Contains(string(b), `"entered":1`) || !strings.Contains(string(b), `{"version":2,"step":"pause","kind":"wait","at":1`) {
			t.Fatalf("counts: %d %s", st, b)
		}
		v3 := strings.Replace(def, "waiting", "really waiting", 1)
		for _, st := range []struct {
			say, method, path string
			role              auth.Role
			body              string
			status            int
			has               string
		}{
			{"dry run by phone: Ann entered, her pause still to come", "POST", "/v1/journeys/cart/dry-run", auth.RoleReporting,
				`{"member":"+447700900123"}`, 200, `"steps":[{"at":"` + eventsNow.Add(2*time.Hour).UTC().Format(time.RFC3339) + `","step":"pause","kind":"wait","outcome":"due"}]`},
			{"dry run of nobody", "POST", "/v1/journeys/cart/dry-run", auth.RoleReporting, `{}`, 422, `"field":"member"`},
			{"dry run of a stranger", "POST", "/v1/journeys/cart/dry-run", auth.RoleReporting, `{"member":"+447700900999"}`, 404, ""},
			{"version 3", "PUT", "/v1/journeys/cart", auth.RoleManager, v3, 200, `"version":3`},
			{"a reporting key may not move", "POST", "/v1/journeys/cart/move", auth.RoleReporting, `{"from_version":2,"from_step":"pause","to_step":"pause"}`, 403, ""},
			{"move to a step that is not there", "POST", "/v1/journeys/cart/move", auth.RoleManager, `{"from_version":2,"from_step":"pause","to_step":"nap"}`, 422, `"field":"to_step"`},
			{"move Ann to version 3", "POST", "/v1/journeys/cart/move", auth.RoleManager, `{"from_version":2,"from_step":"pause","to_step":"pause"}`, 200, `"to_version":3,"to_step":"pause","moved":1`},
		} {
			status, body, _ := e.do(st.method, st.path, st.role, st.body)
			if status != st.status || !strings.Contains(string(body), st.has) {
				t.Errorf("%s: %d %s", st.say, status, body)
			}
		}
		if st, b, _ := e.do("DELETE", "/v1/journeys/cart", auth.RoleManager, nil); st != 409 {
			t.Fatalf("deleting a journey with members: %d %s", st, b)
		}
	})
}
