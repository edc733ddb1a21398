package sms_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// The stream hears of each message to a member as its state is recorded:
// sent, then delivered or failed (an early receipt too); messages to nobody
// in particular write nothing.
func TestQueue_WritesSMSEventsForMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, c := setup(t, db)
		addMember(t, db, "mem_a", "active", "Europe/London")
		for _, id := range []string{"m1", "m2", "m3", "m4"} {
			enqueue(t, db, id, c.t.Add(-time.Second))
		}
		enqueue(t, db, "anon", c.t.Add(-time.Second))
		if _, err := db.W.Exec(`UPDATE sms_outbox SET member_id = 'mem_a', campaign_id = 'cmp_1' WHERE id <> 'anon'`); err != nil {
			t.Fatal(err)
		}
		msgs, err := q.Claim(ctx, 10)
		if err != nil || len(msgs) != 5 {
			t.Fatalf("claim: %v %d", err, len(msgs))
		}
		byID := map[string]sms.Message{}
		for _, m := range msgs {
			byID[m.ID] = m
		}
		// m3's receipt overtakes its submit record.
		if err := q.DeliveredBatch(ctx, []sms.Receipt{{GatewayID: "g3", State: sms.Delivered, At: c.t}}); err != nil {
			t.Fatal(err)
		}
		err = q.SentBatch(ctx, []sms.SentResult{{Message: byID["m1"], GatewayID: "g1", Segments: 1},
			{Message: byID["m2"], GatewayID: "g2", Segments: 1}, {Message: byID["m3"], GatewayID: "g3", Segments: 1},
			{Message: byID["anon"], GatewayID: "g9", Segments: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.DeliveredBatch(ctx, []sms.Receipt{{GatewayID: "g1", State: sms.Delivered, At: c.t},
			{GatewayID: "g2", State: sms.Expired, At: c.t}, {GatewayID: "g9", State: sms.Delivered, At: c.t}}); err != nil {
			t.Fatal(err)
		}
		if err := q.Fail(ctx, byID["m4"], errors.New("rejected")); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"perk:sms_sent:m1": "cmp_1", "perk:sms_sent:m2": "cmp_1", "perk:sms_sent:m3": "cmp_1",
			"perk:sms_delivered:m1": "cmp_1", "perk:sms_failed:m2": "cmp_1", "perk:sms_delivered:m3": "cmp_1",
			"perk:sms_failed:m4": "cmp_1",
		}
		rows, err := db.R.Query(`SELECT event_id, campaign, member_id FROM events`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]string{}
		for rows.Next() {
			var e, camp, m string
			rows.Scan(&e, &camp, &m)
			if m != "mem_a" {
				t.Errorf("%s belongs to %s", e, m)
			}
			got[e] = camp
		}
		if len(got) != len(want) {
			t.Errorf("events %v, want %v", got, want)
		}
		for e, camp := range want {
			if got[e] != camp {
				t.Errorf("%s: campaign %q, want %q (all %v)", e, got[e], camp, got)
			}
		}
	})
}
