package policy

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Kind separates messages the policy governs from those it lets through.
type Kind string

// Message kinds. Anything but Transactional is governed as marketing, so a
// misspelt kind cannot slip past the policy.
const (
	Marketing     Kind = "marketing"
	Transactional Kind = "transactional"
)

// Reason explains a decision; Ok means send now. The values are what the
// outbox records as the held or deferred reason.
type Reason string

// Decision reasons.
const (
	Ok         Reason = "ok"
	OptedOut   Reason = "opted_out"
	QuietHours Reason = "quiet_hours"
	Capped     Reason = "capped"
)

// Config is the policy. Start from DefaultConfig: the zero Window is all day
// and the zero Cap is no cap.
type Config struct {
	Window      Window // default 08:00-21:00
	Cap         Cap    // default 3 per 7 days
	DefaultZone string // zone used when a member has none (e.g. "Europe/London"); "UTC" if empty
}

// DefaultConfig returns 08:00-21:00, 3 per 7 days, UTC.
func DefaultConfig() Config {
	return Config{
		Window:      Window{Start: 8 * 60, End: 21 * 60},
		Cap:         Cap{N: 3, Per: 7 * 24 * time.Hour},
		DefaultZone: "UTC",
	}
}

// Member is what the policy needs to know about the recipient.
type Member struct {
	// Marketable is false for opted_out, pending (double opt-in not
	// confirmed) and erased members.
	Marketable bool
	// TimeZone is an IANA zone; "" means Config.DefaultZone, and so does a
	// zone this host cannot load (then Decision.ZoneFallback is set).
	TimeZone string
	// Sent holds the times of marketing messages already sent (or
	// scheduled) to this member, in any order; only those inside the cap
	// window matter.
	Sent []time.Time
}

// Decision is the outcome for one message.
type Decision struct {
	Reason Reason
	// SendAt is when the message may go, in UTC: now for Ok, the deferred
	// time for QuietHours and Capped, zero for OptedOut.
	SendAt time.Time
	// Final is true for OptedOut: the message must not be sent at all
	// (record it as held back with the reason).
	Final bool
	// ZoneFallback reports that the member's zone was unknown and the
	// default zone was used.
	ZoneFallback bool
}

// Policy evaluates messages. It is safe for concurrent use.
type Policy struct {
	cfg   Config
	def   *time.Location
	zones sync.Map // zone name -> *time.Location, or nil if it does not load
}

var errLocalZone = errors.New(`"Local" is the host's zone, not an IANA zone`)

// New checks cfg (the default zone loads, window minutes are in range, the
// cap is sane) and returns a Policy for it.
func New(cfg Config) (*Policy, error) {
	if cfg.DefaultZone == "" {
		cfg.DefaultZone = "UTC"
	}
	def, err := loadZone(cfg.DefaultZone)
	if err != nil {
		return nil, fmt.Errorf("policy: default zone %q: %w", cfg.DefaultZone, err)
	}
	if err := cfg.Window.valid(); err != nil {
		return nil, err
	}
	if err := cfg.Cap.valid(); err != nil {
		return nil, fmt.Errorf("policy: cap: %w", err)
	}
	return &Policy{cfg: cfg, def: def}, nil
}

// Config returns the checked configuration, with DefaultZone filled in.
func (p *Policy) Config() Config { return p.cfg }

// Decide decides the fate of one message to m at now. Transactional
// messages go now, whatever the member's state. Marketing to a member who is
// not Marketable is OptedOut and Final; that covers messages queued before
// the opt-out as long as the sender asks again, with the member's current
// state, when it dequeues a message.
//
// Otherwise the message goes at the earliest instant, from now on, at which
// the cap has room (fewer than N of Sent in (t-Per, t]) and the member's
// clock is inside the window. The reason is Capped if the cap moved it at
// all, even if quiet hours then moved it further; QuietHours if only quiet
// hours did; Ok, with SendAt equal to now, if neither did.
func (p *Policy) Decide(now time.Time, kind Kind, m Member) Decision {
	now = now.UTC()
	if kind == Transactional {
		return Decision{Reason: Ok, SendAt: now}
	}
	if !m.Marketable {
		return Decision{Reason: OptedOut, Final: true}
	}
	loc, fallback := p.location(m.TimeZone)
	var buf [16]time.Time
	h := p.history(now, m.Sent, buf[:0])

	// Each round either lets a send leave the cap window for good or moves
	// to a window start, after which the next round settles or the cap moves
	// again; 2*len(h)+2 rounds always suffice, the bound only guards that.
	t, capped, quiet := now, false, false
	for range 2*len(h) + 2 {
		c, held := p.cfg.Cap.deferral(t, h)
		open := nextOpen(c, loc, p.cfg.Window)
		if !held && open.Equal(t) {
			break
		}
		capped = capped || held
		quiet = quiet || !open.Equal(c)
		t = open
	}
	d := Decision{Reason: Ok, SendAt: t.UTC(), ZoneFallback: fallback}
	switch {
	case capped:
		d.Reason = Capped
	case quiet:
		d.Reason = QuietHours
	}
	return d
}

// history keeps the sends that can still count from now on, those after
// now-Per, sorted oldest first in buf (which it may outgrow).
func (p *Policy) history(now time.Time, sent []time.Time, buf history) history {
	if p.cfg.Cap.N == 0 {
		return buf
	}
	from := now.Add(-p.cfg.Cap.Per)
	for _, s := range sent {
		if s.After(from) {
			buf = append(buf, s)
		}
	}
	slices.SortFunc(buf, time.Time.Compare)
	return buf
}
