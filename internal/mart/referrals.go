package mart

import (
	"context"
	"database/sql"
	"time"
)

// FactReferral is one row per referral: a sign-up that came with a member's
// referral code (package referral). docs/data-mart.md describes it.
var FactReferral = Table{Name: "fact_referral", Fact: true, Columns: cols(
	"referral_id", String, "referrer_key", String, "friend_key", String, "channel", String, "status", String,
	"reason", String, "created_at", Time, "qualify_by", Time, "qualified_at", Time, "clawed_back_at", Time,
	"transaction_key", String, "amount", Int, "returned", Int, "cost", Int, "referrer_reward", String,
	"friend_reward", String, "date_key", Int)}

// referrals writes fact_referral. Incrementally, a referral is exported
// again when it qualified or was clawed back since.
func (e *exporter) referrals(ctx context.Context, emit func(Row) error) error {
	where, args := e.sinceWhere(`f.created_at >= $1 OR f.qualified_at >= $1 OR f.clawed_back_at >= $1`)
	var (
		id, referrer, channel, status, reason, byKind, toKind string
		friend, store, txn                                    sql.NullString
		created                                               time.Time
		qualifyBy, qualified, clawed                          sql.NullTime
		amount, returned, cost                                int64
	)
	row := make(Row, len(FactReferral.Columns))
	return e.each(ctx, `SELECT f.id, f.referrer_id, f.friend_id, f.channel, f.status, f.reason, f.created_at, f.qualify_by,
		f.qualified_at, f.clawed_back_at, b.store_id, b.transaction_id, f.amount, f.returned,
		COALESCE((SELECT SUM(w.cost - w.clawed_back) FROM referral_rewards w WHERE w.referral_id = f.id), 0),
		COALESCE((SELECT w.kind FROM referral_rewards w WHERE w.referral_id = f.id AND w.role = 'referrer'), ''),
		COALESCE((SELECT w.kind FROM referral_rewards w WHERE w.referral_id = f.id AND w.role = 'friend'), '')
		FROM referrals f LEFT JOIN baskets b ON b.id = f.basket_id`+where+` ORDER BY f.id`, args, func(rs *sql.Rows) error {
		if err := rs.Scan(&id, &referrer, &friend, &channel, &status, &reason, &created, &qualifyBy, &qualified, &clawed,
			&store, &txn, &amount, &returned, &cost, &byKind, &toKind); err != nil {
			return err
		}
		key := ""
		if store.Valid {
			key = transactionKey(store.String, txn.String)
		}
		row[0], row[1], row[2], row[3] = Str(id), Str(e.pseudo.Key(referrer)), Str(e.pseudo.Key(friend.String)), Str(channel)
		row[4], row[5], row[6], row[7], row[8], row[9] = Str(status), Str(reason), At(created), NullAt(qualifyBy), NullAt(qualified), NullAt(clawed)
		row[10], row[11], row[12], row[13] = Str(key), Int64(amount), Int64(returned), Int64(cost)
		row[14], row[15], row[16] = Str(byKind), Str(toKind), Int64(dateKey(created))
		return emit(row)
	})
}
