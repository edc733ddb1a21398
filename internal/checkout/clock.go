package checkout

import "time"

// WithClock returns a service that shares s's database, caches of campaigns
// and members, ledger and metrics, but reads the time from now. A batch file
// of sales made offline is committed through it at the times the tills
// sold, so a basket's day and hour conditions, its redemptions and its
// points are dated as if the till had been live. The returned service is
// as safe for concurrent use as s; its store-zone cache is its own.
func (s *Service) WithClock(now func() time.Time) *Service {
	opt := s.opt
	opt.Now = now
	return &Service{db: s.db, members: s.members, campaigns: s.campaigns, ledger: s.ledger, opt: opt, cur: s.cur, metrics: s.metrics, zones: s.zones}
}

// Currency is the programme's currency code, the only one a basket may be in.
func (s *Service) Currency() string { return s.opt.Currency }
