// Package nbo is the next best offer: the offer pool the operator fills with
// candidate offers and their cost, the basket association rules mined from
// till lines ("bought coffee -> pastries"), the ranking of the offers a
// member could be given by expected incremental value with the numbers
// behind each score, and next_best_offer campaigns, which give each member
// of an audience the top k offers of the pool, or k random ones for a
// holdout, so the ranking can be measured against chance.
//
// The model is written down in docs/nbo.md. The scoring (model.go) and the
// rule mining (rules.go) are pure functions over data; the rest loads that
// data and stores what they produce. It does not match baskets (the
// checkout engine does: a given offer is a personal-offer campaign) and
// does not send SMS.
package nbo

import (
	"log/slog"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/store"
)

// Options configure a Service.
type Options struct {
	// Wallet gives the live offers a member holds, ranked with the pool;
	// nil ranks the pool alone.
	Wallet *checkout.Service
	// Window is how far back member features and rules look; 365 days if 0.
	Window time.Duration
	// ModelTTL is how long the programme-wide statistics are reused before
	// they are read again, in the background while the old ones serve; 10
	// minutes if 0. Writing the pool, mining rules and giving offers drop
	// them at once.
	ModelTTL time.Duration
	// Seed draws the holdout's random offers; 0 draws from the clock.
	Seed uint64
	Now  func() time.Time
	Log  *slog.Logger
}

// Service keeps the pool and rules and ranks offers.
type Service struct {
	db        *store.DB
	campaigns *campaign.Service
	opt       Options

	mu         sync.Mutex // guards model, gen and refreshing
	model      *loaded
	gen        uint64 // counts invalidations, so a refresh begun before one is dropped
	refreshing bool   // a refresh is running in the background
}

// NewService returns the next-best-offer service.
func NewService(db *store.DB, campaigns *campaign.Service, opt Options) *Service {
	if opt.Window == 0 {
		opt.Window = 365 * 24 * time.Hour
	}
	if opt.ModelTTL == 0 {
		opt.ModelTTL = 10 * time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	s := &Service{db: db, campaigns: campaigns, opt: opt}
	if campaigns != nil {
		campaigns.RegisterKind(KindNextBestOffer, s.launchCampaign)
	}
	return s
}

func (s *Service) now() time.Time { return s.opt.Now().UTC() }

// invalidate drops the cached model so the next ranking reads it afresh.
func (s *Service) invalidate() {
	s.mu.Lock()
	s.model = nil
	s.gen++
	s.mu.Unlock()
}
