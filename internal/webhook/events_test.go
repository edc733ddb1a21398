package webhook_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestEvents_EveryDomainReportsItsChangesWithTheCRMID drives the real
// services, wired to the webhooks as perk serve wires them, through a
// member's life and checks what an endpoint subscribed to everything gets.
func TestEvents_EveryDomainReportsItsChangesWithTheCRMID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		rcv := newReceiver(t)
		f.endpoint(rcv.URL, change.Types...)
		w := newWorld(t, db, f.svc, f.clk.Now, engine.Benefit{Kind: engine.AmountOff, Amount: 100})
		members, till, queue := w.members, w.till, w.queue

		step := func(what string, fn func() error, want ...string) {
			t.Helper()
			before := len(rcv.requests())
			if err := fn(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			f.drain()
			var got []string
			for _, r := range rcv.requests()[before:] {
				var p struct {
					Type string         `json:"type"`
					Data map[string]any `json:"data"`
				}
				if err := json.Unmarshal(r.body, &p); err != nil {
					t.Fatal(err)
				}
				if p.Data["external_id"] != "CRM-7" {
					t.Errorf("%s: %s has external_id %v, want CRM-7", what, p.Type, p.Data["external_id"])
				}
				got = append(got, p.Type)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: events %v, want %v", what, got, want)
			}
		}
		var m *member.Member
		step("enrol", func() error {
			e, err := members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: "+447700900123", ExternalID: "CRM-7"},
				Channel: member.ChannelAPI, Consent: true})
			if e != nil {
				m = e.Member
			}
			return err
		}, change.MemberCreated, change.ConsentChanged)
		step("update", func() error {
			name := "Ann"
			_, err := members.Update(ctx, m.ID, member.Patch{FirstName: &name})
			return err
		}, change.MemberUpdated)
		offer := ""
		step("commit", func() error {
			resp, err := till.Commit(ctx, &checkout.Request{Store: "S1", Terminal: "T1", Member: checkout.Key(string(m.Code)),
				Currency: "GBP", TransactionID: "T-1", Items: []checkout.Item{{Line: 1, SKU: "A", Quantity: 2, UnitPrice: 1000}}})
			if err == nil && len(resp.Benefits) == 1 {
				offer = resp.Benefits[0].OfferID
			}
			return err
		}, change.TransactionCommitted, change.OfferRedeemed, change.PointsChanged)
		// A basket from a transaction file (the batch guise) is reported as
		// a live commit is.
		step("commit of a basket the till decided offline", func() error {
			_, err := till.CommitGiven(ctx, &checkout.Request{Store: "S1", Terminal: "T1", Member: checkout.Key(string(m.Code)),
				Currency: "GBP", TransactionID: "T-2", Items: []checkout.Item{{Line: 1, SKU: "A", Quantity: 1, UnitPrice: 1000}}},
				[]checkout.Given{{OfferID: offer, Discount: 100}})
			return err
		}, change.TransactionCommitted, change.OfferRedeemed, change.PointsChanged)
		step("return", func() error {
			_, err := till.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R1",
				Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}})
			return err
		}, change.TransactionReturned, change.PointsChanged)
		step("void", func() error {
			_, err := till.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T-1"})
			return err
		}, change.TransactionVoided, change.PointsChanged)
		step("a repeated void changes nothing", func() error {
			_, err := till.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T-1"})
			return err
		})
		step("receipt", func() error {
			if _, err := db.W.Exec(`UPDATE sms_outbox SET status = 'sent', gateway_message_id = 'G1' WHERE member_id = $1`, m.ID); err != nil {
				return err
			}
			return queue.Delivered(ctx, sms.Receipt{GatewayID: "G1", State: "Delivered", At: t0})
		}, change.SMSDelivered)
		step("an SMS the gateway refuses for good", func() error {
			err := db.Tx(ctx, func(tx *sql.Tx) error {
				_, err := sms.Enqueue(ctx, tx, sms.Outbound{MemberID: m.ID, To: string(m.Phone), Body: "Hi", Kind: sms.Transactional, Purpose: "test"}, t0)
				return err
			})
			if err != nil {
				return err
			}
			msgs, err := queue.Claim(ctx, 10)
			if err != nil || len(msgs) != 1 {
				return fmt.Errorf("claim: %d messages, %v", len(msgs), err)
			}
			return queue.Fail(ctx, msgs[0], errors.New("invalid destination"))
		}, change.SMSFailed)
		step("opt out", func() error {
			_, err := members.OptOut(ctx, m.ID, member.Origin{Method: member.ChannelSMS, Source: "STOP"})
			return err
		}, change.ConsentChanged, change.MemberOptedOut)
		step("erase", func() error { return members.Erase(ctx, m.ID) }, change.MemberErased)

		// No personal data travels: the phone appears in no payload.
		for _, r := range rcv.requests() {
			if strings.Contains(string(r.body), "7700900123") {
				t.Errorf("a payload holds the phone number: %s", r.body)
			}
		}
	})
}
