package referral

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/ledger"
)

// Roles: who a reward went to.
const (
	RoleReferrer = "referrer"
	RoleFriend   = "friend"
)

// ledgerTxn is the transaction id a referral's points are written under, so
// a clawback reverses exactly them under the ledger's policy.
func ledgerTxn(referralID string) string { return "referral:" + referralID }

// reward gives ref's rewards, or records why not (cap, budget), inside tx.
// ref is qualified and its status is StatusRewarded when called.
func (s *Service) reward(ctx context.Context, tx *sql.Tx, st Settings, ref *row, now time.Time) error {
	type give struct {
		role, member string
		r            *Reward
	}
	var gives []give
	if st.Referrer != nil {
		gives = append(gives, give{RoleReferrer, ref.ReferrerID, st.Referrer})
	}
	if st.Friend != nil && ref.FriendID != "" {
		gives = append(gives, give{RoleFriend, ref.FriendID, st.Friend})
	}
	var cost int64
	for _, g := range gives {
		cost += s.cost(g.r)
	}
	reason := ""
	if st.CapPerYear > 0 {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE referrer_id = $1 AND id <> $2
			AND status IN ('rewarded', 'clawed_back') AND qualified_at > $3`, ref.ReferrerID, ref.ID, now.AddDate(-1, 0, 0)).Scan(&n); err != nil {
			return fmt.Errorf("referral cap: %w", err)
		}
		if n >= st.CapPerYear {
			reason = ReasonCap
		}
	}
	if reason == "" && st.Budget > 0 {
		spent, err := spentTx(ctx, tx)
		if err != nil {
			return err
		}
		if spent+cost > st.Budget {
			reason = ReasonBudget
		}
	}
	if reason != "" {
		ref.Status, ref.Reason = StatusNotRewarded, reason
		return ref.setStatus(ctx, tx)
	}
	for _, g := range gives {
		if err := s.give(ctx, tx, ref, g.role, g.member, g.r, now); err != nil {
			return err
		}
	}
	ref.Status, ref.Reason = StatusRewarded, ReasonRewarded
	return ref.setStatus(ctx, tx)
}

// cost is what one reward costs the programme, minor units.
func (s *Service) cost(r *Reward) int64 {
	if r.Kind == RewardPoints {
		return s.ledger.Policy().Value(r.Points)
	}
	return r.Value
}

// spentTx is what the rewards cost so far, net of clawbacks.
func spentTx(ctx context.Context, q queryer) (int64, error) {
	var spent int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(cost - clawed_back), 0) FROM referral_rewards`).Scan(&spent); err != nil {
		return 0, fmt.Errorf("referral budget: %w", err)
	}
	return spent, nil
}

// give writes one side's reward.
func (s *Service) give(ctx context.Context, tx *sql.Tx, ref *row, role, memberID string, r *Reward, now time.Time) error {
	rw := rewardRow{role: role, member: memberID, kind: r.Kind, cost: s.cost(r)}
	switch r.Kind {
	case RewardPoints:
		why := "referral: you brought a friend"
		if role == RoleFriend {
			why = "referral: welcome, friend"
		}
		if _, err := s.ledger.Earn(ctx, tx, ledger.Credit{MemberID: memberID, Kind: ledger.KindBonus, Points: r.Points,
			Reason: why, TransactionID: ledgerTxn(ref.ID)}, now); err != nil {
			return err
		}
		rw.points = r.Points
	case RewardOffer:
		rw.campaign = r.Campaign
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaign_members WHERE campaign_id = $1 AND member_id = $2`,
			r.Campaign, memberID).Scan(&n); err != nil {
			return fmt.Errorf("referral offer: %w", err)
		}
		if n > 0 {
			rw.cost, rw.note = 0, "already had the offer"
			break
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_members (campaign_id, member_id, control) VALUES ($1, $2, 0)`,
			r.Campaign, memberID); err != nil {
			return fmt.Errorf("referral offer: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET audience_size = audience_size + 1 WHERE id = $1`, r.Campaign); err != nil {
			return fmt.Errorf("referral offer: %w", err)
		}
	case RewardContent:
		var code string
		err := tx.QueryRowContext(ctx, `UPDATE content_codes SET member_id = $2, issued_at = $3
			WHERE pool = $1 AND issued_at IS NULL
			AND code = (SELECT code FROM content_codes WHERE pool = $1 AND issued_at IS NULL ORDER BY code LIMIT 1)
			RETURNING code`, r.Pool, memberID, now).Scan(&code)
		if errors.Is(err, sql.ErrNoRows) {
			// A dry pool must not undo the referral: the operator sees it
			// in the note and the log.
			s.opt.Log.WarnContext(ctx, "referral content pool empty", "pool", r.Pool, "referral", ref.ID)
			rw.cost, rw.note = 0, "none left in pool "+r.Pool
			break
		}
		if err != nil {
			return fmt.Errorf("referral content: %w", err)
		}
		rw.content = code
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO referral_rewards (referral_id, role, member_id, kind, points, campaign_id,
		content_code, cost, clawed_back, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)`,
		ref.ID, rw.role, rw.member, rw.kind, rw.points, nullIf(rw.campaign), nullIf(rw.content), rw.cost, rw.note, now); err != nil {
		return fmt.Errorf("store referral reward: %w", err)
	}
	return nil
}

type rewardRow struct {
	role, member, kind, campaign, content, note string
	points, cost, clawedBack                    int64
}

func nullIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (r *row) setStatus(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE referrals SET status = $2, reason = $3, basket_id = $4, amount = $5, returned = $6,
		qualified_at = $7, clawed_back_at = $8 WHERE id = $1`, r.ID, string(r.Status), r.Reason, nullIf(r.BasketID), r.Amount, r.Returned,
		r.QualifiedAt, r.ClawedBackAt); err != nil {
		return fmt.Errorf("referral status: %w", err)
	}
	return nil
}

// Purchased hears of a committed basket of a member, inside the till's
// transaction (checkout.Referrals): the friend's first purchase of at least
// the minimum within the deadline qualifies their referral. It costs one
// indexed read when referrals qualify by purchase, none otherwise.
func (s *Service) Purchased(ctx context.Context, tx *sql.Tx, memberID, basketID string, amount int64, now time.Time) error {
	st, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	if !st.Enabled || st.Qualify != QualifyPurchase {
		return nil
	}
	now = now.UTC().Truncate(time.Microsecond)
	ref, err := loadRow(ctx, tx, `friend_id = $1 AND status = 'pending_purchase'`, memberID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if ref.QualifyBy != nil && now.After(*ref.QualifyBy) {
		ref.Status, ref.Reason = StatusNotRewarded, ReasonLate
		return ref.setStatus(ctx, tx)
	}
	if amount < st.MinPurchase || amount <= 0 {
		return nil // not enough yet: the next purchase may qualify
	}
	ref.BasketID, ref.Amount, ref.QualifiedAt = basketID, amount, &now
	ref.Status = StatusRewarded
	return s.reward(ctx, tx, st, ref, now)
}

// Returned hears of a return (value is what came back, minor units) or a
// void (all true) of a basket, inside its transaction. When the basket
// qualified a referral that was rewarded, what is left of it falls below the
// minimum, and the return is within the returns window, the rewards are
// taken back: points under the ledger's clawback policy, an offer not yet
// used, never a content code already given.
func (s *Service) Returned(ctx context.Context, tx *sql.Tx, basketID string, value int64, all bool, now time.Time) error {
	ref, err := loadRow(ctx, tx, `basket_id = $1`, basketID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now = now.UTC().Truncate(time.Microsecond)
	ref.Returned = min(ref.Amount, ref.Returned+value)
	if all {
		ref.Returned = ref.Amount
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	left := ref.Amount - ref.Returned
	inWindow := ref.QualifiedAt != nil && !now.After(ref.QualifiedAt.AddDate(0, 0, st.ReturnsDays))
	if ref.Status == StatusRewarded && (left < st.MinPurchase || left <= 0) && inWindow {
		if err := s.clawBack(ctx, tx, ref, now); err != nil {
			return err
		}
		ref.Status, ref.Reason, ref.ClawedBackAt = StatusClawedBack, ReasonClawedBack, &now
	}
	return ref.setStatus(ctx, tx)
}

// clawBack takes back a referral's rewards.
func (s *Service) clawBack(ctx context.Context, tx *sql.Tx, ref *row, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT role, member_id, kind, points, COALESCE(campaign_id, ''), cost FROM referral_rewards
		WHERE referral_id = $1 ORDER BY role`, ref.ID)
	if err != nil {
		return fmt.Errorf("referral clawback: %w", err)
	}
	var rws []rewardRow
	for rows.Next() {
		var rw rewardRow
		if err := rows.Scan(&rw.role, &rw.member, &rw.kind, &rw.points, &rw.campaign, &rw.cost); err != nil {
			rows.Close()
			return err
		}
		rws = append(rws, rw)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, rw := range rws {
		var back int64
		note := ""
		switch rw.kind {
		case RewardPoints:
			rev, err := s.ledger.Reverse(ctx, tx, rw.member, ledgerTxn(ref.ID), rw.points, "referral reward taken back: the qualifying purchase was returned", now)
			if err != nil {
				return err
			}
			back = s.ledger.Policy().Value(rev.Taken)
			if rev.Shortfall > 0 {
				note = fmt.Sprintf("%d points could not be taken back", rev.Shortfall)
			}
			if rev.Taken == rw.points {
				back = rw.cost
			}
		case RewardOffer:
			if rw.cost == 0 {
				break
			}
			var used int64
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(uses), 0) FROM offer_uses WHERE campaign_id = $1 AND member_id = $2`,
				rw.campaign, rw.member).Scan(&used); err != nil {
				return fmt.Errorf("referral clawback: %w", err)
			}
			if used > 0 {
				note = "offer already used, kept"
				break
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_members WHERE campaign_id = $1 AND member_id = $2`, rw.campaign, rw.member); err != nil {
				return fmt.Errorf("referral clawback: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET audience_size = audience_size - 1 WHERE id = $1`, rw.campaign); err != nil {
				return fmt.Errorf("referral clawback: %w", err)
			}
			back = rw.cost
		case RewardContent:
			note = "content already given, kept"
		}
		q, args := `UPDATE referral_rewards SET clawed_back = $3 WHERE referral_id = $1 AND role = $2`, []any{ref.ID, rw.role, back}
		if note != "" {
			q, args = `UPDATE referral_rewards SET clawed_back = $3, note = $4 WHERE referral_id = $1 AND role = $2`, append(args, note)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("referral clawback: %w", err)
		}
	}
	return nil
}

const rowCols = `id, code, referrer_id, COALESCE(friend_id, ''), channel, status, reason, COALESCE(basket_id, ''), amount, returned,
	created_at, qualify_by, qualified_at, clawed_back_at`

func scanRow(sc interface{ Scan(...any) error }) (*row, error) {
	var r row
	var qb, qa, cb sql.NullTime
	var status string
	if err := sc.Scan(&r.ID, &r.Code, &r.ReferrerID, &r.FriendID, &r.Channel, &status, &r.Reason, &r.BasketID, &r.Amount, &r.Returned,
		&r.CreatedAt, &qb, &qa, &cb); err != nil {
		return nil, err
	}
	r.Status = Status(status)
	r.CreatedAt = r.CreatedAt.UTC()
	for _, p := range []struct {
		n  sql.NullTime
		to **time.Time
	}{{qb, &r.QualifyBy}, {qa, &r.QualifiedAt}, {cb, &r.ClawedBackAt}} {
		if p.n.Valid {
			t := p.n.Time.UTC()
			*p.to = &t
		}
	}
	return &r, nil
}

func loadRow(ctx context.Context, q queryer, where string, args ...any) (*row, error) {
	r, err := scanRow(q.QueryRowContext(ctx, `SELECT `+rowCols+` FROM referrals WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load referral: %w", err)
	}
	return r, nil
}
