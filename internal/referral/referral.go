// Package referral is members bringing members: each member's referral code
// and link, the referral a friend's sign-up makes, the programme's reward
// rules (points, a personal offer or free content, for the referrer, the
// friend or both, when the friend joins or first buys enough within N days),
// the abuse rules (self-referral, former members, caps, budget), the
// clawback when the qualifying purchase comes back, and the report.
//
// It hears of sign-ups through member.Referrals and of the till's commits,
// returns and voids through the checkout's Referrals hook, both inside their
// transactions, so a referral's status moves exactly when its cause commits
// (a retried commit is answered from the stored response and moves nothing
// twice). It never texts a number a member types: the member shares their
// own link.
package referral

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Status is where a referral stands.
type Status string

// Statuses. Reason words each one for people ("pending first purchase",
// "refused: already a member").
const (
	StatusPending     Status = "pending_purchase" // the friend joined; the qualifying purchase has not come yet
	StatusRewarded    Status = "rewarded"         // qualified and rewarded
	StatusNotRewarded Status = "not_rewarded"     // qualified (or joined), but a cap, the budget or the deadline stopped the reward
	StatusRefused     Status = "refused"          // never counted: self-referral, already or formerly a member
	StatusClawedBack  Status = "clawed_back"      // rewarded, then the qualifying purchase came back
)

// Qualifying events.
const (
	QualifyJoin     = "join"
	QualifyPurchase = "purchase"
)

// Errors callers branch on.
var (
	ErrCodeMalformed = problem.New(problem.Invalid, "referral_code_malformed", "a referral code is 6 letters and digits")
	ErrCodeUnknown   = problem.New(problem.Invalid, "referral_code_unknown", "no member has this referral code")
	ErrNotFound      = problem.New(problem.NotFound, "referral_not_found", "referral not found")
)

// Options configure a Service.
type Options struct {
	PublicURL string           // base of referral links, e.g. "https://perk.example.com"
	Now       func() time.Time // clock; time.Now if nil
	Log       *slog.Logger     // slog.Default() if nil
}

// Service keeps referral codes, referrals, their rewards and the settings.
type Service struct {
	db        *store.DB
	ledger    *ledger.Ledger
	campaigns *campaign.Service // resolves an offer reward's campaign when settings are saved; may be nil
	opt       Options

	mu       sync.Mutex // guards settings and loadedAt
	settings *Settings
	loadedAt time.Time
}

// New returns a Service. The ledger gives points rewards and takes them back
// under its clawback policy.
func New(db *store.DB, l *ledger.Ledger, campaigns *campaign.Service, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	return &Service{db: db, ledger: l, campaigns: campaigns, opt: opt}
}

// Link is the referral link for a code: the join form with it filled in.
func (s *Service) Link(code string) string { return s.opt.PublicURL + "/join?ref=" + code }

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }
