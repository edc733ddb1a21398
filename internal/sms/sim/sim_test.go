package sim_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/sim"
)

func TestGateway_RecordsSendsReceiptsAndInbound(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	g := sim.New(func() time.Time { return at })
	live, stop := g.Subscribe()
	defer stop()
	g.RecordInbound(sms.Inbound{From: "+447400123456", Body: "JOIN", ReceivedAt: at})
	sub, err := g.Send(context.Background(), sms.Message{ID: "m1", To: "+447400123456", Body: "Welcome! 🎉"})
	if err != nil || sub.GatewayID == "" || sub.Segments != 1 {
		t.Fatalf("Send = %+v, %v", sub, err)
	}
	r := <-g.Receipts()
	if r.GatewayID != sub.GatewayID || r.State != sms.Delivered {
		t.Fatalf("receipt %+v", r)
	}
	var dirs []string
	for _, e := range g.History("+447400123456") {
		dirs = append(dirs, e.Dir)
	}
	if fmt.Sprint(dirs) != "[mo mt dlr]" {
		t.Fatalf("history %v", dirs)
	}
	if e := <-live; e.Dir != sim.MO {
		t.Fatalf("first live event %+v", e)
	}
	if len(g.History("+447400999999")) != 0 {
		t.Fatal("another number's history is not empty")
	}
	if _, err := g.Send(context.Background(), sms.Message{ID: "m2"}); !errors.Is(err, sms.ErrPermanent) {
		t.Fatalf("no destination: %v", err)
	}
}

func TestGateway_ForgetsTheOldestTrafficBeyondItsBound(t *testing.T) {
	g := sim.New(nil)
	for i := 0; i < 2500; i++ {
		g.RecordInbound(sms.Inbound{From: fmt.Sprintf("+4474%08d", i), Body: "hi", ReceivedAt: time.Now()})
	}
	h := g.History("")
	if len(h) != 2000 || h[0].Phone != "+447400000500" {
		t.Fatalf("kept %d events starting at %s", len(h), h[0].Phone)
	}
}
