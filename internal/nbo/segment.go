package nbo

import (
	"context"
	"database/sql"
	"time"
)

// Stand-in segments, by the committed baskets of the last SegmentWindow,
// for members whose refined profile (package profile) has no RFM segment
// yet (docs/nbo.md).
const (
	SegmentNone       = "none"       // no basket in the window
	SegmentOccasional = "occasional" // 1 or 2
	SegmentRegular    = "regular"    // 3 to 7
	SegmentFrequent   = "frequent"   // 8 or more
)

// SegmentWindow is how far back the stand-in segments count baskets.
const SegmentWindow = 90 * 24 * time.Hour

// SegmentOf names the stand-in segment of a member with n baskets in the
// window.
func SegmentOf(n int64) string {
	switch {
	case n <= 0:
		return SegmentNone
	case n <= 2:
		return SegmentOccasional
	case n <= 7:
		return SegmentRegular
	}
	return SegmentFrequent
}

// segments gives every member with a basket in the window their segment;
// members not in the map are SegmentNone.
func (s *Service) segments(ctx context.Context, tx *sql.Tx, now time.Time) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT member_id, COUNT(*) FROM baskets
		WHERE status = 'committed' AND member_id IS NOT NULL AND created_at >= $1 GROUP BY member_id`, now.Add(-SegmentWindow))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = SegmentOf(n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	// Refined profiles' RFM segments replace the stand-ins where they exist.
	prof, err := tx.QueryContext(ctx, `SELECT member_id, segment FROM member_profiles WHERE segment <> ''`)
	if err != nil {
		return nil, err
	}
	defer prof.Close()
	for prof.Next() {
		var id, seg string
		if err := prof.Scan(&id, &seg); err != nil {
			return nil, err
		}
		out[id] = seg
	}
	return out, prof.Err()
}
