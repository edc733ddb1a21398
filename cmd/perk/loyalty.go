package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/nbo"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/web"
)

// Loyalty settings: the programme's currency, how points are earned, held,
// expire, pay and are taken back.
type loyaltyConfig struct {
	Currency      string
	BaseEarn      int64
	PointsPending time.Duration
	PointsExpire  time.Duration
	PointsRate    string
	Clawback      string
	Zone          string
}

func loyaltyFlags(fs *flag.FlagSet, c *Config) {
	l := &c.Loyalty
	strFlag(fs, &l.Currency, "currency", "PERK_CURRENCY", "GBP", "the programme's currency (ISO 4217); tills must send it")
	int64Flag(fs, &l.BaseEarn, "points-per-unit", "PERK_POINTS_PER_UNIT", 1, "points earned per whole currency unit paid")
	durationFlag(fs, &l.PointsPending, "points-pending", "PERK_POINTS_PENDING", 14*24*time.Hour, "how long earned points wait (the returns window) before they can be spent")
	durationFlag(fs, &l.PointsExpire, "points-expire", "PERK_POINTS_EXPIRE", 365*24*time.Hour, "how long points stay spendable; 0 = never expire")
	strFlag(fs, &l.PointsRate, "points-rate", "PERK_POINTS_RATE", "1:1", "points:minor units when paying with points (100:50 = 100 points pay 0.50)")
	strFlag(fs, &l.Clawback, "points-clawback", "PERK_POINTS_CLAWBACK", ledger.ClawbackWithinBalance,
		"points already spent when a purchase is returned: pending_only, within_balance or debt")
	strFlag(fs, &l.Zone, "campaign-zone", "PERK_CAMPAIGN_ZONE", "Europe/London", "time zone of campaign dates that name none")
}

func (l loyaltyConfig) policy() (ledger.Policy, error) {
	a, b, ok := strings.Cut(l.PointsRate, ":")
	pts, err1 := strconv.ParseInt(a, 10, 64)
	val, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || pts <= 0 || val <= 0 {
		return ledger.Policy{}, fmt.Errorf("--points-rate %q: want POINTS:MINOR_UNITS, e.g. 100:50", l.PointsRate)
	}
	p := ledger.Policy{PendingFor: l.PointsPending, ExpireAfter: l.PointsExpire, RedeemPoints: pts, RedeemValue: val, Clawback: l.Clawback}
	if err := p.Validate(); err != nil {
		return ledger.Policy{}, err
	}
	return p, nil
}

// loyalty is the campaign manager, the points ledger and the checkout.
type loyalty struct {
	campaigns *campaign.Service
	ledger    *ledger.Ledger
	checkout  *checkout.Service
	referrals *referral.Service
	// nbo ranks offers; its wallet is the checkout's, best offer first,
	// for the card page and the OFFERS reply.
	nbo       *nbo.Service
	catalogue *catalogue.Catalogue
	reports   *report.Service
	// live wakes dashboard pages when a till moves a campaign.
	live     *web.Live
	currency money.Currency // how the pages show money
}

func (c *Config) loyalty(db *store.DB, members *member.Service, l *links.Service, log *slog.Logger) (*loyalty, error) {
	return c.meteredLoyalty(db, members, l, log, nil)
}

// meteredLoyalty is loyalty with the checkout's series registered on reg.
func (c *Config) meteredLoyalty(db *store.DB, members *member.Service, l *links.Service, log *slog.Logger, reg prometheus.Registerer) (*loyalty, error) {
	o, err := c.loyaltyOptions()
	if err != nil {
		return nil, err
	}
	o.campaigns.Links, o.campaigns.Log, o.campaigns.Now, o.checkout.Now = l, log, c.now(), c.now()
	camps := campaign.NewService(db, o.campaigns)
	led := ledger.New(db, o.points, c.now())
	led.SetChanges(c.changes(db, log))
	live := web.NewLive()
	cat := catalogue.New(db, catalogue.Options{Currency: o.currency.Code, Log: log, Metrics: reg, Now: c.now()})
	o.checkout.Log, o.checkout.OnChange, o.checkout.Metrics, o.checkout.Catalogue = log, live.Notify, reg, cat
	o.checkout.Changes = c.changes(db, log)
	// Referrals hear of sign-ups and of the tills inside their transactions.
	refs := referral.New(db, led, camps, referral.Options{PublicURL: members.PublicURL(), Log: log, Now: c.now()})
	members.SetReferrals(refs)
	o.checkout.Referrals = refs
	co := checkout.NewService(db, members, camps, led, o.checkout)
	return &loyalty{campaigns: camps, ledger: led, checkout: co, referrals: refs, catalogue: cat,
		nbo: nbo.NewService(db, camps, nbo.Options{Wallet: co, Log: log, Now: c.now()}), reports: report.NewService(db, camps, c.now()), live: live,
		currency: o.currency}, nil
}

// loyaltyOptions are the settings of the campaign service, the ledger and
// the checkout, without their clocks, loggers and links.
type loyaltyOptions struct {
	campaigns campaign.Options
	points    ledger.Policy
	checkout  checkout.Options
	currency  money.Currency
}

func (c *Config) loyaltyOptions() (loyaltyOptions, error) {
	zone, err := time.LoadLocation(c.Loyalty.Zone)
	if err != nil {
		return loyaltyOptions{}, fmt.Errorf("--campaign-zone: %w", err)
	}
	pol, err := c.Loyalty.policy()
	if err != nil {
		return loyaltyOptions{}, err
	}
	cur, err := c.Loyalty.currency()
	if err != nil {
		return loyaltyOptions{}, err
	}
	return loyaltyOptions{
		campaigns: campaign.Options{Zone: zone, PublicURL: c.PublicURL, Programme: c.Programme, Currency: cur},
		points:    pol,
		checkout:  checkout.Options{Currency: cur.Code, BaseEarn: c.Loyalty.BaseEarn},
		currency:  cur,
	}, nil
}

// currency is the programme's currency; an unknown code is refused before
// anything starts.
func (l *loyaltyConfig) currency() (money.Currency, error) {
	cur, err := money.ParseCurrency(l.Currency)
	if err != nil {
		return money.Currency{}, fmt.Errorf("--currency: %w", err)
	}
	return cur, nil
}
