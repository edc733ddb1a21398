package campaign_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/policy"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// BenchmarkSender_Announcements sends a launch's announcements (1,000
// members) through the contact policy, without and with the campaign rules
// (campaign state and the member's queued messages read per message), to
// show what those rules cost the sender. ns/op is per announcement.
//
//	go test ./internal/campaign -run '^$' -bench Sender_Announcements -benchtime 3x
func BenchmarkSender_Announcements(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Engine(b, engine)
			benchAnnouncements(b, db)
		})
	}
}

func benchAnnouncements(b *testing.B, db *store.DB) {
	const n = 1000
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	members := member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test", Now: c.Now, Log: log})
	camps := campaign.NewService(db, campaign.Options{PublicURL: "https://perk.test", Programme: "Test", Now: c.Now, Log: log})
	for i := range n {
		if _, err := members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("+4477009%05d", i)},
			Channel: member.ChannelAPI, Consent: true}); err != nil {
			b.Fatal(err)
		}
	}
	s := spec("Bench")
	s.Message = "20% off coffee all week"
	cp, err := camps.Create(ctx, s)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := camps.Launch(ctx, cp.ID); err != nil {
		b.Fatal(err)
	}
	// No quiet hours and no cap: every announcement goes, so the figure is
	// the policy's reading, not deferrals.
	p, err := policy.New(policy.Config{DefaultZone: "Europe/London"})
	if err != nil {
		b.Fatal(err)
	}
	for _, rules := range []struct {
		name string
		cs   sms.Campaigns
	}{{"no campaign rules", nil}, {"campaign rules", camps}} {
		b.Run(rules.name, func(b *testing.B) {
			q := sms.NewQueue(db, c.Now, 30*time.Second, 8)
			sender := sms.NewSender(q, accepting{}, sms.NewContactPolicy(db, p, rules.cs), log, c.Now)
			for range b.N {
				b.StopTimer()
				if _, err := db.W.Exec(`UPDATE sms_outbox SET status = 'queued', send_after = $1, sent_at = NULL WHERE kind = 'marketing'`, c.t); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				sent := 0
				for {
					k, err := sender.Once(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if k == 0 {
						break
					}
					sent += k
				}
				if sent < n {
					b.Fatalf("sent %d, want %d", sent, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/announcement")
		})
	}
}

// accepting is a gateway that accepts every message at once and sends no
// receipts (the simulator's receipts would wait for a reader).
type accepting struct{}

func (accepting) Name() string { return "accepting" }
func (accepting) Send(_ context.Context, m sms.Message) (sms.Submitted, error) {
	return sms.Submitted{GatewayID: m.ID, Segments: 1}, nil
}
