package mart

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/report/figures"
)

// members writes dim_member: every member ever enrolled, erased ones
// included (their rows keep no personal data either way). No phone, name,
// e-mail, birthday, external id, member code, attributes or source.
func (e *exporter) members(ctx context.Context, emit func(Row) error) error {
	var (
		id, status, channel, home, zone, tags string
		enrolled                              time.Time
		erased                                sql.NullTime
	)
	row := make(Row, len(DimMember.Columns))
	return e.each(ctx, `SELECT id, status, channel, home_store, timezone, tags, enrolled_at, erased_at FROM members ORDER BY id`, nil,
		func(rs *sql.Rows) error {
			if err := rs.Scan(&id, &status, &channel, &home, &zone, &tags, &enrolled, &erased); err != nil {
				return err
			}
			list, err := joinJSONList(tags)
			if err != nil {
				return fmt.Errorf("member tags: %w", err)
			}
			row[0], row[1], row[2], row[3] = Str(e.pseudo.Key(id)), Str(status), Str(channel), Str(home)
			row[4], row[5], row[6], row[7], row[8] = Str(zone), Str(list), At(enrolled), Day(enrolled), NullAt(erased)
			return emit(row)
		})
}

// campaigns writes dim_campaign from the columns and the stored spec; its
// redemptions, discount_given and points_given are the campaign's figures
// by their one definition (package figures), as the campaign report and
// GET /v1/campaigns give them, not the counters the tills take limits
// from (kept only for campaigns with a limit or budget).
func (e *exporter) campaigns(ctx context.Context, emit func(Row) error) error {
	var (
		id, name, status, spec, ended                    string
		starts, ends, created                            time.Time
		launched                                         sql.NullTime
		maxRed, budget                                   sql.NullInt64
		redemptions, discount, points, audience, control int64
	)
	row := make(Row, len(DimCampaign.Columns))
	return e.each(ctx, `SELECT c.id, c.name, c.status, c.spec, c.starts_at, c.ends_at, c.max_redemptions, c.budget,
		COALESCE(f.redemptions, 0), COALESCE(f.discount, 0), COALESCE(f.points, 0), c.audience_size, c.control_size, c.created_at,
		c.launched_at, c.ended_reason
		FROM campaigns c LEFT JOIN (`+figures.ByCampaign+`) f ON f.campaign_id = c.id ORDER BY c.id`, nil, func(rs *sql.Rows) error {
		if err := rs.Scan(&id, &name, &status, &spec, &starts, &ends, &maxRed, &budget, &redemptions, &discount, &points,
			&audience, &control, &created, &launched, &ended); err != nil {
			return err
		}
		var s campaign.Spec
		if err := json.Unmarshal([]byte(spec), &s); err != nil {
			return fmt.Errorf("campaign %s spec: %w", id, err)
		}
		kinds := make([]string, 0, len(s.Benefits))
		for _, b := range s.Benefits {
			kinds = append(kinds, string(b.Kind))
		}
		row[0], row[1], row[2], row[3], row[4] = Str(id), Str(name), Str(status), At(starts), At(ends)
		row[5], row[6], row[7] = Str(s.TimeZone), Str(s.Audience.Kind), Int64(int64(s.ControlGroup))
		row[8], row[9], row[10] = Str(joinList(kinds)), Str(joinList(append([]string(nil), s.Stores...))), Int64(int64(s.Priority))
		row[11], row[12], row[13], row[14] = Boolean(s.Exclusive), Boolean(s.Message != ""), NullInt(maxRed), NullInt(budget)
		row[15], row[16], row[17], row[18], row[19] = Int64(redemptions), Int64(discount), Int64(points), Int64(audience), Int64(control)
		row[20], row[21], row[22] = At(created), NullAt(launched), Str(ended)
		return emit(row)
	})
}

// stores writes dim_store.
func (e *exporter) stores(ctx context.Context, emit func(Row) error) error {
	var id, name, zone string
	var created time.Time
	return e.each(ctx, `SELECT id, name, timezone, created_at FROM stores ORDER BY id`, nil, func(rs *sql.Rows) error {
		if err := rs.Scan(&id, &name, &zone, &created); err != nil {
			return err
		}
		return emit(Row{Str(id), Str(name), Str(zone), At(created)})
	})
}

// dates writes dim_date: every day from the first to the last date_key of
// the facts written, gaps included, so a calendar axis has no holes.
func (e *exporter) dates(emit func(Row) error) error {
	if e.maxDay == 0 {
		return nil
	}
	day := keyDate(e.minDay)
	last := keyDate(e.maxDay)
	row := make(Row, len(DimDate.Columns))
	for ; !day.After(last); day = day.AddDate(0, 0, 1) {
		wd := int64(day.Weekday())
		if wd == 0 {
			wd = 7 // ISO: Monday 1 .. Sunday 7
		}
		iy, iw := day.ISOWeek()
		row[0], row[1], row[2] = Int64(dateKey(day)), Day(day), Int64(int64(day.Year()))
		row[3], row[4], row[5] = Int64(int64((day.Month()-1)/3+1)), Int64(int64(day.Month())), Int64(int64(day.Day()))
		row[6], row[7], row[8], row[9] = Int64(wd), Str(day.Weekday().String()), Int64(int64(iy)), Int64(int64(iw))
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}

func keyDate(k int64) time.Time {
	return time.Date(int(k/10000), time.Month(k/100%100), int(k%100), 0, 0, 0, 0, time.UTC)
}
