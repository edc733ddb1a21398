package mart

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// DimMemberProfile is one row per member with a refined profile (package
// profile, docs/profiles.md), keyed like dim_member. docs/data-mart.md
// describes it.
var DimMemberProfile = Table{Name: "dim_member_profile", Columns: cols(
	"member_key", String, "segment", String, "r_score", Int, "f_score", Int, "m_score", Int,
	"last_purchase_at", Time, "frequency", Int, "monetary", Int, "average_basket", Int, "preferred_store", String,
	"visit_days", Int, "usual_interval_seconds", Int, "overdue_after", Time, "top_categories", String, "top_brands", String,
	"sms_received", Int, "sms_clicks", Int, "sms_redemptions", Int, "points_earned", Int, "points_redeemed", Int,
	"points_balance", Int, "updated_at", Time)}

// profiles writes dim_member_profile: the stored profiles, with the member
// pseudonymised as everywhere in the mart. Affinities are "name=share"
// (share to three decimals), best first, ";"-joined.
func (e *exporter) profiles(ctx context.Context, emit func(Row) error) error {
	affs := map[string][2][]string{}
	err := e.each(ctx, `SELECT member_id, kind, name, share FROM member_affinities ORDER BY member_id, kind, share DESC, name`, nil,
		func(rs *sql.Rows) error {
			var id, kind, name string
			var share float64
			if err := rs.Scan(&id, &kind, &name, &share); err != nil {
				return err
			}
			a := affs[id]
			i := 0
			if kind == "brand" {
				i = 1
			}
			a[i] = append(a[i], name+"="+strconv.FormatFloat(share, 'f', 3, 64))
			affs[id] = a
			return nil
		})
	if err != nil {
		return fmt.Errorf("affinities: %w", err)
	}
	var (
		id, seg, store                                           string
		r, f, m, freq, monetary, avg, days, interval, overdue    int64
		received, clicks, redemptions, earned, redeemed, balance int64
		last                                                     sql.NullTime
		updated                                                  time.Time
	)
	row := make(Row, len(DimMemberProfile.Columns))
	return e.each(ctx, `SELECT member_id, segment, r_score, f_score, m_score, last_purchase, frequency, monetary, avg_basket,
		preferred_store, visit_days, usual_interval, overdue_after, sms_received, sms_clicks, sms_redemptions, points_earned,
		points_redeemed, points_balance, refreshed_at FROM member_profiles ORDER BY member_id`, nil, func(rs *sql.Rows) error {
		if err := rs.Scan(&id, &seg, &r, &f, &m, &last, &freq, &monetary, &avg, &store, &days, &interval, &overdue,
			&received, &clicks, &redemptions, &earned, &redeemed, &balance, &updated); err != nil {
			return err
		}
		var due sql.NullTime
		if overdue > 0 {
			due = sql.NullTime{Time: time.Unix(overdue, 0).UTC(), Valid: true}
		}
		a := affs[id]
		row[0], row[1], row[2], row[3], row[4] = Str(e.pseudo.Key(id)), Str(seg), Int64(r), Int64(f), Int64(m)
		row[5], row[6], row[7], row[8], row[9] = NullAt(last), Int64(freq), Int64(monetary), Int64(avg), Str(store)
		row[10], row[11], row[12], row[13], row[14] = Int64(days), Int64(interval), NullAt(due), Str(joinList(a[0])), Str(joinList(a[1]))
		row[15], row[16], row[17], row[18], row[19] = Int64(received), Int64(clicks), Int64(redemptions), Int64(earned), Int64(redeemed)
		row[20], row[21] = Int64(balance), At(updated)
		return emit(row)
	})
}
