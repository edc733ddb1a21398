package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/clock"
	"github.com/perk-platform/perk/internal/problem"
)

// clockView is the answer of GET /v1/clock and POST /v1/clock/advance.
type clockView struct {
	Now       time.Time `json:"now"`
	Simulated bool      `json:"simulated"`
}

// getClock reads the server's clock: the simulated one, or the wall clock
// (so a script can tell which it talks to before it advances).
func (s *Server) getClock(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	writeJSON(w, http.StatusOK, clockView{Now: s.opt.Now().UTC(), Simulated: s.opt.Clock != nil})
	return nil
}

// errRealClock answers an advance on a server that runs on the wall clock.
var errRealClock = problem.New(problem.Conflict, "clock_real",
	"this server runs on the real clock; start perk serve with --clock simulated to rehearse")

// advanceClock moves the simulated clock forward, by a duration or to a
// time, then runs the work that fell due up to the new time (the journeys'
// timers and the cart-abandonment checks, the SMS sender with its quiet
// hours, the event partitions) before it answers, and wakes the loops that
// poll (webhooks, jobs): a caller reads the outcome at once, with no sleep.
func (s *Server) advanceClock(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	if s.opt.Clock == nil {
		return errRealClock
	}
	var req struct {
		By string     `json:"by"`
		To *time.Time `json:"to"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var err error
	switch {
	case req.By != "" && req.To != nil:
		return problem.InvalidField("by", "clock_by_and_to", nil, "give either by (a duration) or to (a time), not both")
	case req.By != "":
		d, perr := time.ParseDuration(req.By)
		if perr != nil {
			return problem.InvalidField("by", "clock_by_invalid", perr, "by %q is not a duration such as 2h or 90m", req.By)
		}
		_, err = s.opt.Clock.Advance(d)
	case req.To != nil:
		_, err = s.opt.Clock.AdvanceTo(*req.To)
	default:
		return problem.InvalidField("by", "clock_by_missing", nil, "give by (a duration such as 2h) or to (an RFC 3339 time)")
	}
	if errors.Is(err, clock.ErrBackwards) {
		return problem.New(problem.Conflict, "clock_backwards", err.Error())
	} else if err != nil {
		return err
	}
	if s.opt.CatchUp != nil {
		// The caught-up work is the server's, not the request's: a client
		// that hangs up does not leave it half done.
		if err := s.opt.CatchUp(context.WithoutCancel(r.Context())); err != nil {
			return err
		}
	}
	return s.getClock(w, r, nil)
}

// clockFuncs gives the templates simulatedNow: the simulated clock's time,
// for the console's banner, or nil on the wall clock (no banner).
func clockFuncs(c *clock.Simulated) template.FuncMap {
	return template.FuncMap{"simulatedNow": func() *time.Time {
		if c == nil {
			return nil
		}
		t := c.Now().UTC()
		return &t
	}}
}
