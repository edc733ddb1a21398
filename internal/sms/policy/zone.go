package policy

import (
	"time"
	_ "time/tzdata" // member zones must resolve on hosts without /usr/share/zoneinfo
)

// maxTransitions bounds the walk in nextOpen. Real zones change offset a
// few times a year, so a day never holds more than two or three; the bound
// only keeps a corrupt zone from hanging the sender.
const maxTransitions = 32

// location returns the zone for name, or the default zone and fallback=true
// when name is not a zone this host can load. Results, failures included,
// are cached: LoadLocation parses the zone file each time (~50µs), and member
// zones are few (they are validated on write, so unknown ones are rare).
func (p *Policy) location(name string) (loc *time.Location, fallback bool) {
	if name == "" {
		return p.def, false
	}
	if v, ok := p.zones.Load(name); ok {
		if v == nil {
			return p.def, true
		}
		return v.(*time.Location), false
	}
	loc, err := loadZone(name)
	if err != nil {
		p.zones.Store(name, nil)
		return p.def, true
	}
	p.zones.Store(name, loc)
	return loc, false
}

// loadZone is time.LoadLocation without "Local", which means the sending
// host's zone, not the member's (member profiles reject it for the same
// reason).
func loadZone(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errLocalZone
	}
	return time.LoadLocation(name)
}

// nextOpen returns the earliest instant at or after t whose wall-clock time
// in loc is inside w (see the package doc for daylight saving). Within one
// offset period the wall clock runs with real time, so the next window start
// is a fixed distance away; if the period ends first, the clock jumps there
// and the search resumes at the jump.
func nextOpen(t time.Time, loc *time.Location, w Window) time.Time {
	u := t.In(loc)
	for range maxTransitions {
		tod := timeOfDay(u)
		if w.contains(tod) {
			return u
		}
		at := u.Add(w.untilStart(tod))
		_, end := u.ZoneBounds()
		if end.IsZero() || at.Before(end) {
			return at
		}
		u = end.In(loc)
	}
	return u
}
