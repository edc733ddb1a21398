package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/store"
)

// Referral is one referral as the API, pages and histories show it.
type Referral struct {
	ID         string    `json:"id"`
	Code       string    `json:"code"`
	ReferrerID string    `json:"referrer_id"`
	FriendID   string    `json:"friend_id,omitempty"`
	Channel    string    `json:"channel"`
	Status     Status    `json:"status"`
	Reason     string    `json:"reason"`
	Amount     int64     `json:"amount"`   // the qualifying purchase, minor units
	Returned   int64     `json:"returned"` // what of it came back
	Cost       int64     `json:"cost"`     // the rewards' cost net of clawbacks
	CreatedAt  time.Time `json:"created_at"`
	// QualifyBy is the deadline of a pending referral's purchase.
	QualifyBy    *time.Time `json:"qualify_by,omitempty"`
	QualifiedAt  *time.Time `json:"qualified_at,omitempty"`
	ClawedBackAt *time.Time `json:"clawed_back_at,omitempty"`
	Rewards      []Given    `json:"rewards"`
}

// Given is one side's reward of a referral.
type Given struct {
	Role        string `json:"role"` // referrer or friend
	MemberID    string `json:"member_id"`
	Kind        string `json:"kind"`
	Points      int64  `json:"points,omitempty"`
	CampaignID  string `json:"campaign_id,omitempty"`
	ContentCode string `json:"content_code,omitempty"`
	Cost        int64  `json:"cost"`
	ClawedBack  int64  `json:"clawed_back"`
	Note        string `json:"note,omitempty"`
}

// Mine is a member's side of referrals: their code and link, the referrals
// they made, and the one that brought them, if any.
type Mine struct {
	Code       string     `json:"code"`
	Link       string     `json:"link"`
	Made       []Referral `json:"made"`
	ReferredBy *Referral  `json:"referred_by,omitempty"`
}

// ForMember returns a member's code, link and referrals (drawing the code
// the first time).
func (s *Service) ForMember(ctx context.Context, memberID string) (*Mine, error) {
	code, err := s.Code(ctx, memberID)
	if err != nil {
		return nil, err
	}
	made, err := s.list(ctx, `referrer_id = $1`, memberID)
	if err != nil {
		return nil, err
	}
	out := &Mine{Code: code, Link: s.Link(code), Made: made}
	by, err := s.list(ctx, `friend_id = $1`, memberID)
	if err != nil {
		return nil, err
	}
	if len(by) > 0 {
		out.ReferredBy = &by[0]
	}
	return out, nil
}

// List returns referrals newest first, at most limit (1 to 500), optionally
// only those with a status.
func (s *Service) List(ctx context.Context, status Status, limit int) ([]Referral, error) {
	if limit < 1 || limit > 500 {
		limit = 100
	}
	if status != "" {
		return s.list(ctx, fmt.Sprintf(`status = $1 ORDER BY created_at DESC, id DESC LIMIT %d`, limit), string(status))
	}
	return s.list(ctx, fmt.Sprintf(`1 = 1 ORDER BY created_at DESC, id DESC LIMIT %d`, limit))
}

// Get returns one referral.
func (s *Service) Get(ctx context.Context, id string) (*Referral, error) {
	out, err := s.list(ctx, `id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return &out[0], nil
}

func (s *Service) list(ctx context.Context, where string, args ...any) ([]Referral, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+rowCols+` FROM referrals WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list referrals: %w", err)
	}
	defer rows.Close()
	out := []Referral{}
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("list referrals: %w", err)
		}
		out = append(out, Referral{ID: r.ID, Code: r.Code, ReferrerID: r.ReferrerID, FriendID: r.FriendID, Channel: r.Channel,
			Status: r.Status, Reason: r.Reason, Amount: r.Amount, Returned: r.Returned, CreatedAt: r.CreatedAt,
			QualifyBy: r.QualifyBy, QualifiedAt: r.QualifiedAt, ClawedBackAt: r.ClawedBackAt, Rewards: []Given{}})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.rewards(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) rewards(ctx context.Context, r *Referral) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT role, member_id, kind, points, COALESCE(campaign_id, ''), COALESCE(content_code, ''),
		cost, clawed_back, note FROM referral_rewards WHERE referral_id = $1 ORDER BY role DESC`, r.ID)
	if err != nil {
		return fmt.Errorf("referral rewards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g Given
		if err := rows.Scan(&g.Role, &g.MemberID, &g.Kind, &g.Points, &g.CampaignID, &g.ContentCode, &g.Cost, &g.ClawedBack, &g.Note); err != nil {
			return err
		}
		r.Rewards = append(r.Rewards, g)
		r.Cost += g.Cost - g.ClawedBack
	}
	return rows.Err()
}

// Activity kinds in referral_activity.
const (
	ActivitySMS    = "sms"    // INVITE texted the member their link
	ActivityShared = "shared" // the card page's share or copy button
	ActivityOpened = "opened" // /join?ref= opened
)

// Note records a link sent or opened for the report. An unknown code
// records nothing.
func (s *Service) Note(ctx context.Context, kind, referrerID, anonymousID string) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO referral_activity (referrer_id, kind, anonymous_id, created_at) VALUES ($1, $2, $3, $4)`,
		referrerID, kind, store.NullString(anonymousID), s.now())
	if err != nil {
		return fmt.Errorf("referral activity: %w", err)
	}
	return nil
}

// Report is the programme's referral figures over a period of sign-ups.
type Report struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Sent counts links sent: INVITE replies and share-button presses.
	Sent   int64 `json:"sent"`
	Opened int64 `json:"opened"` // /join?ref= pages opened
	// Joined counts sign-ups that made a new member with a referral (not refused).
	Joined      int64 `json:"joined"`
	Refused     int64 `json:"refused"`
	Pending     int64 `json:"pending"`
	Qualified   int64 `json:"qualified"`
	Rewarded    int64 `json:"rewarded"` // rewarded and still so
	NotRewarded int64 `json:"not_rewarded"`
	ClawedBack  int64 `json:"clawed_back"`
	Cost        int64 `json:"cost"` // the rewards' cost net of clawbacks, minor units
	// Referred and Other compare the members who joined in the period
	// through a referral with the others who joined then.
	Referred Cohort `json:"referred"`
	Other    Cohort `json:"other"`
}

// Cohort is the revenue of a group of new members: Sales (package
// figures) of their baskets, net of returns and voids.
type Cohort struct {
	Members   int64 `json:"members"`
	Revenue   int64 `json:"revenue"`    // minor units
	PerMember int64 `json:"per_member"` // revenue / members, rounded down
}

// Report computes the figures for referrals made, and members who joined,
// in [from, to).
func (s *Service) Report(ctx context.Context, from, to time.Time) (*Report, error) {
	from, to = from.UTC(), to.UTC()
	out := &Report{From: from, To: to}
	db := s.db.R
	if err := db.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN kind IN ('sms', 'shared') THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN kind = 'opened' THEN 1 ELSE 0 END), 0)
		FROM referral_activity WHERE created_at >= $1 AND created_at < $2`, from, to).Scan(&out.Sent, &out.Opened); err != nil {
		return nil, fmt.Errorf("referral report: %w", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN status <> 'refused' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'refused' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'pending_purchase' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN qualified_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'rewarded' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'not_rewarded' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'clawed_back' THEN 1 ELSE 0 END), 0)
		FROM referrals WHERE created_at >= $1 AND created_at < $2`, from, to).Scan(&out.Joined, &out.Refused, &out.Pending,
		&out.Qualified, &out.Rewarded, &out.NotRewarded, &out.ClawedBack); err != nil {
		return nil, fmt.Errorf("referral report: %w", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(w.cost - w.clawed_back), 0) FROM referral_rewards w
		JOIN referrals f ON f.id = w.referral_id WHERE f.created_at >= $1 AND f.created_at < $2`, from, to).Scan(&out.Cost); err != nil {
		return nil, fmt.Errorf("referral report: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT CASE WHEN f.id IS NULL THEN 0 ELSE 1 END AS referred, COUNT(DISTINCT m.id),
		`+figures.Sales+`
		FROM members m
		LEFT JOIN referrals f ON f.friend_id = m.id AND f.status <> 'refused'
		LEFT JOIN baskets b ON b.member_id = m.id
		LEFT JOIN basket_lines l ON l.basket_id = b.id
		WHERE m.enrolled_at >= $1 AND m.enrolled_at < $2
		GROUP BY CASE WHEN f.id IS NULL THEN 0 ELSE 1 END`, from, to)
	if err != nil {
		return nil, fmt.Errorf("referral report: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var referred int
		var c Cohort
		if err := rows.Scan(&referred, &c.Members, &c.Revenue); err != nil {
			return nil, fmt.Errorf("referral report: %w", err)
		}
		if c.Members > 0 {
			c.PerMember = c.Revenue / c.Members
		}
		if referred == 1 {
			out.Referred = c
		} else {
			out.Other = c
		}
	}
	return out, rows.Err()
}

// Spent is what the rewards cost so far, net of clawbacks, the figure the
// budget is held to.
func (s *Service) Spent(ctx context.Context) (int64, error) { return spentTx(ctx, s.db.R) }
