package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/clock"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

type clockAnswer struct {
	Now       time.Time `json:"now"`
	Simulated bool      `json:"simulated"`
	Error     struct{ Code string }
}

func TestClockAPI_OnTheRealClockReadsButRefusesToMove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		var c clockAnswer
		st, body, _ := e.do("GET", "/v1/clock", auth.RoleAdmin, nil)
		if err := json.Unmarshal(body, &c); st != http.StatusOK || err != nil || c.Simulated || time.Since(c.Now).Abs() > time.Hour {
			t.Errorf("GET /v1/clock = %d %s, want the wall clock, not simulated", st, body)
		}
		st, body, _ = e.do("POST", "/v1/clock/advance", auth.RoleAdmin, `{"by":"2h"}`)
		if st != http.StatusConflict || !strings.Contains(string(body), `"clock_real"`) {
			t.Errorf("advancing the real clock = %d %s, want 409 clock_real", st, body)
		}
	})
}

func TestClockAPI_AdvancesTheSimulatedClockOnlyForwardAndCatchesUpBeforeAnswering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		start := time.Date(2031, 1, 14, 19, 30, 0, 0, time.UTC)
		clk := clock.NewSimulated(start)
		var caughtUpAt []time.Time // the clock's time when each catch-up ran
		e := newEnv(t, db, func(o *web.Options) {
			o.Now, o.Clock = clk.Now, clk
			o.CatchUp = func(context.Context) error { caughtUpAt = append(caughtUpAt, clk.Now()); return nil }
		})
		for _, c := range []struct {
			name     string
			role     auth.Role
			body     string
			status   int
			want     time.Time // the clock after the request
			code     string    // the error's code
			caughtUp bool
		}{
			{"by a duration", auth.RoleAdmin, `{"by":"2h"}`, 200, start.Add(2 * time.Hour), "", true},
			{"by nothing only catches up", auth.RoleAdmin, `{"by":"0s"}`, 200, start.Add(2 * time.Hour), "", true},
			{"to a time", auth.RoleAdmin, `{"to":"2031-01-15T08:00:00Z"}`, 200, time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC), "", true},
			{"never back by a duration", auth.RoleAdmin, `{"by":"-1m"}`, 409, time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC), "clock_backwards", false},
			{"never back to a time", auth.RoleAdmin, `{"to":"2031-01-15T07:59:00Z"}`, 409, time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC), "clock_backwards", false},
			{"not both", auth.RoleAdmin, `{"by":"1h","to":"2031-01-16T00:00:00Z"}`, 422, time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC), "clock_by_and_to", false},
			{"not a duration", auth.RoleAdmin, `{"by":"tomorrow"}`, 422, time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC), "clock_by_invalid", false},
			{"neither", auth.RoleAdmin, `{}`, 422, time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC), "clock_by_missing", false},
			{"admins only", auth.RoleManager, `{"by":"1h"}`, 403, time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC), "forbidden", false},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := len(caughtUpAt)
				st, body, _ := e.do("POST", "/v1/clock/advance", c.role, c.body)
				var a clockAnswer
				json.Unmarshal(body, &a)
				if st != c.status || a.Error.Code != c.code {
					t.Fatalf("= %d %s, want %d %q", st, body, c.status, c.code)
				}
				if st == 200 && (!a.Simulated || !a.Now.Equal(c.want)) {
					t.Errorf("answered %s, want the simulated clock at %v", body, c.want)
				}
				if !clk.Now().Equal(c.want) {
					t.Errorf("the clock reads %v, want %v", clk.Now(), c.want)
				}
				if ran := len(caughtUpAt) > before; ran != c.caughtUp {
					t.Errorf("caught up: %v, want %v", ran, c.caughtUp)
				} else if ran && !caughtUpAt[len(caughtUpAt)-1].Equal(c.want) {
					t.Errorf("caught up at %v, before the clock moved to %v", caughtUpAt[len(caughtUpAt)-1], c.want)
				}
			})
		}
		st, body, _ := e.do("GET", "/v1/clock", auth.RoleAdmin, nil)
		var a clockAnswer
		if err := json.Unmarshal(body, &a); st != 200 || err != nil || !a.Simulated || !a.Now.Equal(time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("GET /v1/clock = %d %s", st, body)
		}
	})
}
