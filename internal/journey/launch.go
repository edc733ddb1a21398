package journey

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/event"
)

// launchPage is how many members of a campaign's audience one transaction
// enters.
const launchPage = 1000

// audienceQuery lists a launched campaign's audience after a member id, in
// id order: the treated members its launch resolved (campaign_members,
// control = 0) and, since an audience of all members keeps no rows for its
// treated members, those it announced to. The campaign's control group
// never enters: it was held back from the campaign.
const audienceQuery = `SELECT member_id FROM (
		SELECT member_id FROM campaign_members WHERE campaign_id = $1 AND control = 0
		UNION SELECT member_id FROM sms_outbox WHERE campaign_id = $1 AND purpose = 'campaign' AND member_id IS NOT NULL
	) a WHERE member_id > $2 ORDER BY member_id LIMIT $3`

// CampaignLaunches enters the audiences of launched campaigns into the live
// journeys whose trigger is their launch, a page of members a transaction
// that also moves the launch's cursor (journey_campaign_launches), so each
// member of a launch is considered once, and a restart goes on where the
// last committed page ended. The re-entry rules and the holdout apply as
// for an event. It returns how many members it considered.
func (s *Service) CampaignLaunches(ctx context.Context) (int, error) {
	return s.eachLive(ctx, "campaign launch", func(l live) bool { return l.def.Trigger.CampaignLaunch != "" }, s.launchPage)
}

// eachLive runs pass over each live journey that wants says is its kind, in
// a transaction of its own, and adds up the members the passes considered.
// A pass that finds its cursor moved by another instance is skipped: that
// instance took the page.
func (s *Service) eachLive(ctx context.Context, what string, wants func(live) bool,
	pass func(context.Context, *sql.Tx, live) (int, error)) (int, error) {
	var lives []live
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		lives, err = s.liveJourneys(ctx, tx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("journey: %s: %w", what, err)
	}
	n := 0
	for _, l := range lives {
		if !wants(l) {
			continue
		}
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			k, err := pass(ctx, tx, l)
			n += k
			return err
		})
		if errors.Is(err, errCursorMoved) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("journey %s: %s: %w", l.name, what, err)
		}
	}
	return n, nil
}

// launchPage enters the next page of the launched campaign's audience.
func (s *Service) launchPage(ctx context.Context, tx *sql.Tx, l live) (int, error) {
	cid, launched, ok, err := launchedCampaign(ctx, tx, l.def.Trigger.CampaignLaunch)
	if err != nil || !ok {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO journey_campaign_launches (journey, campaign_id, launched_at)
		VALUES ($1, $2, $3) ON CONFLICT (journey, campaign_id) DO NOTHING`, l.name, cid, launched); err != nil {
		return 0, err
	}
	var after string
	var done int
	if err := tx.QueryRowContext(ctx, `SELECT after_member, done FROM journey_campaign_launches WHERE journey = $1 AND campaign_id = $2`,
		l.name, cid).Scan(&after, &done); err != nil {
		return 0, err
	}
	if done == 1 {
		return 0, nil
	}
	rows, err := tx.QueryContext(ctx, audienceQuery, cid, after, launchPage)
	if err != nil {
		return 0, err
	}
	var ids []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&seq); err != nil {
		return 0, err
	}
	q := newStmts(tx)
	for _, m := range ids {
		// "Since entering" is after the stream's position now.
		if err := s.enrol(ctx, q, l, &event.Event{MemberID: m, Seq: seq}); err != nil {
			return 0, err
		}
	}
	last := after
	if len(ids) > 0 {
		last = ids[len(ids)-1]
	}
	res, err := tx.ExecContext(ctx, `UPDATE journey_campaign_launches SET after_member = $4, done = $5
		WHERE journey = $1 AND campaign_id = $2 AND after_member = $3 AND done = 0`,
		l.name, cid, after, last, boolInt(len(ids) < launchPage))
	if err != nil {
		return 0, err
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return 0, errCursorMoved
	}
	return len(ids), nil
}

// launchedCampaign finds the campaign a trigger names, by id or else by
// name, and when it launched; ok is false until it has.
func launchedCampaign(ctx context.Context, tx *sql.Tx, ref string) (id string, launched time.Time, ok bool, err error) {
	var at sql.NullTime
	err = tx.QueryRowContext(ctx, `SELECT id, launched_at FROM campaigns WHERE id = $1 OR name = $1
		ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END LIMIT 1`, ref).Scan(&id, &at)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !at.Valid) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, err
	}
	return id, at.Time.UTC(), true, nil
}

// skipEarlierLaunch records the campaign a journey going live is triggered
// by as done when it has launched already: only a launch after the journey
// went live enters its audience, as only later events trigger.
func skipEarlierLaunch(ctx context.Context, tx *sql.Tx, journey string, def Definition) error {
	if def.Trigger.CampaignLaunch == "" {
		return nil
	}
	cid, launched, ok, err := launchedCampaign(ctx, tx, def.Trigger.CampaignLaunch)
	if err != nil || !ok {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO journey_campaign_launches (journey, campaign_id, launched_at, done)
		VALUES ($1, $2, $3, 1) ON CONFLICT (journey, campaign_id) DO NOTHING`, journey, cid, launched)
	return err
}
