package campaign_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/policy"
	"github.com/perk-platform/perk/internal/sms/sim"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// at is a time on the test's clock (London is on UTC in November).
func at(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, time.UTC) }

// sender sends through the simulator on the fixture's clock, under quiet
// hours 08:00-21:00 and a cap of one marketing message a day, with the
// campaign service telling it about campaigns.
func (f *fixture) sender(t *testing.T) *sms.Sender {
	t.Helper()
	p, err := policy.New(policy.Config{Window: policy.Window{Start: 8 * 60, End: 21 * 60},
		Cap: policy.Cap{N: 1, Per: 24 * time.Hour}, DefaultZone: "Europe/London"})
	if err != nil {
		t.Fatal(err)
	}
	q := sms.NewQueue(f.db, f.clock.Now, 30*time.Second, 8)
	return sms.NewSender(q, sim.New(f.clock.Now), sms.NewContactPolicy(f.db, p, f.campaigns),
		slog.New(slog.NewTextHandler(io.Discard, nil)), f.clock.Now)
}

// run sends everything due, then moves the clock to the next message due
// and sends again, until nothing is queued before until.
func (f *fixture) run(t *testing.T, s *sms.Sender, until time.Time) {
	t.Helper()
	ctx := context.Background()
	for {
		for {
			n, err := s.Once(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		var next time.Time
		err := f.db.R.QueryRow(`SELECT send_after FROM sms_outbox WHERE status = 'queued' ORDER BY send_after LIMIT 1`).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if next.After(until) {
			return
		}
		f.clock.t = next.UTC()
	}
}

// announcement is the fate of a campaign's announcement to one member.
type announcement struct {
	Status, Reason string
	SentAt         time.Time // zero unless sent
}

func (f *fixture) announcement(t *testing.T, cid string) announcement {
	t.Helper()
	var a announcement
	var sent sql.NullTime
	if err := f.db.R.QueryRow(`SELECT status, held_reason, sent_at FROM sms_outbox WHERE campaign_id = $1`, cid).
		Scan(&a.Status, &a.Reason, &sent); err != nil {
		t.Fatalf("announcement of %s: %v", cid, err)
	}
	if sent.Valid {
		a.SentAt = sent.Time.UTC()
	}
	return a
}

// sentMarketing records a marketing message already sent to m at t, which
// the frequency cap counts.
func (f *fixture) sentMarketing(t *testing.T, m *member.Member, t0 time.Time) {
	t.Helper()
	if _, err := f.db.W.Exec(`INSERT INTO sms_outbox (id, member_id, to_phone, body, kind, purpose, status, created_at, send_after, sent_at)
		VALUES ('msg_earlier', $1, $2, 'Earlier offer', 'marketing', 'campaign', 'sent', $3, $3, $3)`, m.ID, m.Phone, t0); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) launchAnnounced(t *testing.T, name, end string, priority int) *campaign.Campaign {
	t.Helper()
	defer func() { f.clock.t = f.clock.t.Add(time.Minute) }() // launches queue in order
	ctx := context.Background()
	s := spec(name)
	s.End, s.Priority, s.Message = end, priority, name+": 20% off coffee all week"
	c, err := f.campaigns.Create(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.campaigns.Launch(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAnnouncements_NeverOutliveTheirCampaign: an announcement goes only
// while its campaign runs. One that quiet hours or the frequency cap would
// push to or past the campaign's end is dropped (cancelled, too_late), not
// deferred; one whose campaign is paused is held (campaign_paused) until it
// resumes; one whose campaign ended while it waited is held for good.
func TestAnnouncements_NeverOutliveTheirCampaign(t *testing.T) {
	for _, c := range []struct {
		name  string
		now   time.Time // launch time (the clock moves on a minute)
		prior bool      // a marketing message went to the member at 09:30 today (cap: next slot tomorrow 09:30)
		end   string    // the campaign's end, London time
		act   func(t *testing.T, f *fixture, c *campaign.Campaign, s *sms.Sender)
		want  announcement
	}{
		{name: "sent at once when nothing holds it", now: at(23, 10, 0), end: "2026-11-30",
			want: announcement{sms.StatusSent, "", at(23, 10, 1)}},
		{name: "capped, and the cap frees before the end: deferred, then sent", now: at(23, 10, 0), prior: true, end: "2026-11-30",
			want: announcement{sms.StatusSent, "capped", at(24, 9, 30)}},
		{name: "capped until after the end: dropped", now: at(23, 10, 0), prior: true, end: "2026-11-24T09:00",
			want: announcement{sms.StatusCancelled, sms.ReasonTooLate, time.Time{}}},
		{name: "capped until the very end: dropped", now: at(23, 10, 0), prior: true, end: "2026-11-24T09:30",
			want: announcement{sms.StatusCancelled, sms.ReasonTooLate, time.Time{}}},
		{name: "quiet hours last past the end: dropped", now: at(23, 22, 0), end: "2026-11-24T07:00",
			want: announcement{sms.StatusCancelled, sms.ReasonTooLate, time.Time{}}},
		{name: "quiet hours end before the end: deferred, then sent", now: at(23, 22, 0), end: "2026-11-24T09:00",
			want: announcement{sms.StatusSent, "quiet_hours", at(24, 8, 0)}},
		{name: "paused before it went: held, visibly, at once", now: at(23, 10, 0), end: "2026-11-30",
			act: func(t *testing.T, f *fixture, c *campaign.Campaign, s *sms.Sender) {
				if _, err := f.campaigns.Pause(context.Background(), c.ID); err != nil {
					t.Fatal(err)
				}
				if a := f.announcement(t, c.ID); a.Status != sms.StatusHeld || a.Reason != sms.ReasonCampaignPaused {
					t.Fatalf("after the pause, before the sender ran: %+v", a)
				}
				if n, err := sms.Count(context.Background(), f.db, c.ID); err != nil || n.Reasons[sms.StatusHeld][sms.ReasonCampaignPaused] != 1 {
					t.Fatalf("status counts %+v %v, want one held campaign_paused", n, err)
				}
				f.run(t, s, at(30, 0, 0))
			},
			want: announcement{sms.StatusHeld, sms.ReasonCampaignPaused, time.Time{}}},
		{name: "paused while deferred, then resumed: sent", now: at(23, 10, 0), prior: true, end: "2026-11-30",
			act: func(t *testing.T, f *fixture, c *campaign.Campaign, s *sms.Sender) {
				f.run(t, s, at(23, 12, 0)) // deferred by the cap
				if _, err := f.campaigns.Pause(context.Background(), c.ID); err != nil {
					t.Fatal(err)
				}
				f.clock.t = at(25, 12, 0)
				f.run(t, s, at(25, 12, 0))
				if a := f.announcement(t, c.ID); a.Status != sms.StatusHeld {
					t.Fatalf("paused: %+v", a)
				}
				if _, err := f.campaigns.Resume(context.Background(), c.ID); err != nil {
					t.Fatal(err)
				}
				f.run(t, s, at(30, 0, 0))
			},
			want: announcement{sms.StatusSent, "", at(25, 12, 0)}},
		{name: "paused past the end: held for good, resuming is refused", now: at(23, 10, 0), end: "2026-11-25",
			act: func(t *testing.T, f *fixture, c *campaign.Campaign, s *sms.Sender) {
				if _, err := f.campaigns.Pause(context.Background(), c.ID); err != nil {
					t.Fatal(err)
				}
				f.clock.t = at(26, 12, 0)
				if _, err := f.campaigns.Resume(context.Background(), c.ID); err == nil {
					t.Fatal("resumed an ended campaign")
				}
				f.run(t, s, at(30, 0, 0))
			},
			want: announcement{sms.StatusHeld, sms.ReasonCampaignPaused, time.Time{}}},
		{name: "a limit ended the campaign while it waited: held for good", now: at(23, 10, 0), prior: true, end: "2026-11-30",
			act: func(t *testing.T, f *fixture, c *campaign.Campaign, s *sms.Sender) {
				f.run(t, s, at(23, 12, 0)) // deferred to tomorrow 09:30
				// What the checkout writes when the budget is spent.
				if _, err := f.db.W.Exec(`UPDATE campaigns SET status = 'ended', ended_reason = 'budget' WHERE id = $1`, c.ID); err != nil {
					t.Fatal(err)
				}
				f.run(t, s, at(30, 0, 0))
			},
			want: announcement{sms.StatusHeld, sms.ReasonCampaignEnded, time.Time{}}},
		{name: "the end moved earlier while it waited: held for good", now: at(23, 10, 0), prior: true, end: "2026-11-30",
			act: func(t *testing.T, f *fixture, c *campaign.Campaign, s *sms.Sender) {
				f.run(t, s, at(23, 12, 0)) // deferred to tomorrow 09:30
				sp := c.Spec
				sp.End = "2026-11-24T09:00"
				if _, err := f.campaigns.Update(context.Background(), c.ID, sp, 0); err != nil {
					t.Fatal(err)
				}
				f.run(t, s, at(30, 0, 0))
			},
			want: announcement{sms.StatusHeld, sms.ReasonCampaignEnded, time.Time{}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				f := newFixture(t, db)
				f.clock.t = c.now
				m := f.enrol(t, 1, true, member.Profile{FirstName: "Zoe"})
				if c.prior {
					f.sentMarketing(t, m, at(23, 9, 30))
				}
				camp := f.launchAnnounced(t, "Coffee week", c.end, 0)
				s := f.sender(t)
				if c.act != nil {
					c.act(t, f, camp, s)
				} else {
					f.run(t, s, at(30, 0, 0))
				}
				if got := f.announcement(t, camp.ID); got != c.want {
					t.Fatalf("announcement %+v, want %+v", got, c.want)
				}
			})
		})
	}
}

// TestAnnouncements_TheCapGoesToTheHighestPriorityFirst: three campaigns
// announced to one member at night, with room under the cap for one a day.
// They do not all go at 08:00: the highest priority goes first, the next
// waits for the cap, and one that could only go after its campaign ended is
// dropped and takes no one's turn.
func TestAnnouncements_TheCapGoesToTheHighestPriorityFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.clock.t = at(23, 22, 0) // quiet hours
		f.enrol(t, 1, true, member.Profile{FirstName: "Zoe"})
		low := f.launchAnnounced(t, "Low", "2026-12-10", 1)
		high := f.launchAnnounced(t, "High", "2026-12-10", 5)
		short := f.launchAnnounced(t, "Short", "2026-11-25T07:00", 3) // its turn, 25 Nov 08:00, is after its end
		same := f.launchAnnounced(t, "Later, same priority as Low", "2026-12-10", 1)
		f.run(t, f.sender(t), at(31, 0, 0))
		for _, c := range []struct {
			name string
			cid  string
			want announcement
		}{
			{"highest priority first, when quiet hours end", high.ID, announcement{sms.StatusSent, "quiet_hours", at(24, 8, 0)}},
			{"too late for its turn: dropped, not deferred", short.ID, announcement{sms.StatusCancelled, sms.ReasonTooLate, time.Time{}}},
			{"next priority the day after, in the dropped one's place", low.ID, announcement{sms.StatusSent, "capped", at(25, 8, 0)}},
			{"same priority: in the order queued", same.ID, announcement{sms.StatusSent, "capped", at(26, 8, 0)}},
		} {
			if got := f.announcement(t, c.cid); got != c.want {
				t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
			}
		}
	})
}

// countingStates counts the reads of campaign states the sender makes.
type countingStates struct {
	sms.Campaigns
	reads int
}

func (c *countingStates) MessageStates(ctx context.Context, ids []string) (map[string]sms.CampaignState, error) {
	c.reads++
	return c.Campaigns.MessageStates(ctx, ids)
}

// TestAnnouncements_CampaignStateReadOncePerBatch: a launch's announcements
// are claimed a batch at a time, all for one campaign; the contact policy
// reads that campaign's state once per batch, not once per message, and a
// pause between batches is still seen by the next one.
func TestAnnouncements_CampaignStateReadOncePerBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for i := range 12 {
			f.enrol(t, i, true, member.Profile{})
		}
		if _, err := f.db.W.Exec(`DELETE FROM sms_outbox WHERE kind = 'transactional'`); err != nil {
			t.Fatal(err) // the welcomes: only the announcements are claimed
		}
		c := f.launchAnnounced(t, "Coffee week", "2026-11-30", 0)
		p, err := policy.New(policy.Config{DefaultZone: "Europe/London"})
		if err != nil {
			t.Fatal(err)
		}
		counted := &countingStates{Campaigns: f.campaigns}
		s := sms.NewSender(sms.NewQueue(f.db, f.clock.Now, 30*time.Second, 8), sim.New(f.clock.Now),
			sms.NewContactPolicy(f.db, p, counted), slog.New(slog.NewTextHandler(io.Discard, nil)), f.clock.Now)
		s.Batch = 5
		ctx := context.Background()
		if n, err := s.Once(ctx); err != nil || n != 5 {
			t.Fatalf("first batch: %d, %v", n, err)
		}
		if counted.reads != 1 {
			t.Errorf("a batch of 5 announcements read the campaign %d times, want 1", counted.reads)
		}
		if _, err := f.campaigns.Pause(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.campaigns.Resume(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.W.Exec(`UPDATE campaigns SET status = 'paused' WHERE id = $1`, c.ID); err != nil {
			t.Fatal(err) // paused behind the queue's back: only the state read can see it
		}
		if n, err := s.Once(ctx); err != nil || n != 5 {
			t.Fatalf("second batch: %d, %v", n, err)
		}
		if counted.reads != 2 {
			t.Errorf("two batches read the campaign %d times, want 2", counted.reads)
		}
		var sent, held int
		f.db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE campaign_id = $1 AND status = 'sent'`, c.ID).Scan(&sent)
		f.db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE campaign_id = $1 AND status = 'held' AND held_reason = 'campaign_paused'`, c.ID).Scan(&held)
		if sent != 5 || held != 5 {
			t.Errorf("sent %d and held %d, want the first batch sent and the second held", sent, held)
		}
	})
}
