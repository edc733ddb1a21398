package smpp

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/gsm"
)

func TestReceiptIsQueuedWithTheSubmittedIDBeforeItIsAcknowledged(t *testing.T) {
	// The SMSC answers the submit_sm with 0000AB0001; each receipt names it
	// in its own way, which the client's receipt_ids mode must read.
	tests := []struct {
		name string
		mode IDMatch
		sm   SM
	}{
		{"text id as issued, esm_class 0x04", IDExact, SM{ESMClass: 0x04,
			ShortMessage: []byte("id:0000AB0001 sub:001 dlvrd:001 submit date:2611231000 done date:2611231000 stat:DELIVRD err:000 text:")}},
		{"text id in decimal under dec2hex", IDDec2Hex, SM{ESMClass: 0x04,
			ShortMessage: []byte("id:" + strconv.Itoa(0xAB0001) + " sub:001 dlvrd:001 submit date:2611231000 done date:2611231000 stat:DELIVRD err:000 text:")}},
		{"receipted_message_id TLV preferred to a garbled text id", IDExact, SM{ESMClass: 0x04, ReceiptedMessageID: "0000AB0001",
			ShortMessage: []byte("id:garbled stat:DELIVRD err:000")}},
		{"text form without the esm_class bit, unpadded lower-case under hex", IDHex, SM{
			ShortMessage: []byte("id:ab0001 sub:001 dlvrd:001 stat:DELIVRD err:000")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestSMSC(t, nil)
			c := startClient(t, srv.addr, func(cfg *Config) { cfg.ReceiptIDs = tt.mode }, nil)
			sub, err := c.Send(context.Background(), msg("447700900123", "hello"))
			if err != nil {
				t.Fatal(err)
			}
			seq := srv.request(PDU{Command: DeliverSM, SM: tt.sm})
			resp := recv(t, srv.resps)
			if resp.Command != DeliverSMResp || resp.Seq != seq || resp.Status != StatusOK {
				t.Fatalf("got %s seq %d %s, want deliver_sm_resp seq %d ESME_ROK", CommandName(resp.Command), resp.Seq, resp.Status, seq)
			}
			select {
			case r := <-c.Receipts():
				if r.GatewayID != sub.GatewayID || r.State != sms.Delivered || r.At.IsZero() {
					t.Errorf("receipt %+v, want GatewayID %q delivered with a time", r, sub.GatewayID)
				}
			default:
				t.Error("deliver_sm was acknowledged before its receipt was on Receipts()")
			}
		})
	}
}

func TestMOIsPassedToOnInboundAndAcknowledgedOnlyAfterItReturns(t *testing.T) {
	srv := newTestSMSC(t, nil)
	entered, release := make(chan sms.Inbound), make(chan struct{})
	var released atomic.Bool
	startClient(t, srv.addr, nil, func(_ context.Context, in sms.Inbound) error {
		entered <- in
		<-release
		return nil
	})
	recv(t, srv.binds)
	join, _ := gsm.EncodeGSM7("JOIN Ann")
	seq := srv.request(PDU{Command: DeliverSM, SM: SM{SourceTON: 1, SourceNPI: 1, Source: "447700900123", Dest: "80800", ShortMessage: join}})
	in := recv(t, entered)
	if in.From != "+447700900123" || in.To != "80800" || in.Body != "JOIN Ann" || in.ReceivedAt.IsZero() {
		t.Errorf("onInbound got %+v, want JOIN Ann from +447700900123 to 80800", in)
	}
	select {
	case r := <-srv.resps:
		t.Fatalf("got %s while onInbound was still running", CommandName(r.Command))
	default:
	}
	released.Store(true)
	close(release)
	resp := recv(t, srv.resps)
	if resp.Seq != seq || resp.Status != StatusOK || !released.Load() {
		t.Errorf("got seq %d %s, want ESME_ROK for seq %d after onInbound returned", resp.Seq, resp.Status, seq)
	}
}

func TestTwoPartMOIsReassembledWhateverTheOrderAndEachPartAcknowledged(t *testing.T) {
	srv := newTestSMSC(t, nil)
	got := make(chan sms.Inbound, 1)
	startClient(t, srv.addr, nil, func(_ context.Context, in sms.Inbound) error { got <- in; return nil })
	recv(t, srv.binds)
	part := func(seq byte, text string) SM {
		return SM{SourceTON: 1, Source: "447700900123", ESMClass: 0x40, DataCoding: 0x08,
			ShortMessage: append([]byte{5, 0, 3, 0x42, 2, seq}, gsm.EncodeUCS2(text)...)}
	}
	srv.request(PDU{Command: DeliverSM, SM: part(2, "Ann Жанна")})
	if r := recv(t, srv.resps); r.Status != StatusOK {
		t.Errorf("first-arriving part acknowledged with %s, want ESME_ROK (held in memory)", r.Status)
	}
	srv.request(PDU{Command: DeliverSM, SM: part(1, "JOIN ")})
	if in := recv(t, got); in.Body != "JOIN Ann Жанна" {
		t.Errorf("onInbound body %q, want the parts joined in seq order", in.Body)
	}
	if r := recv(t, srv.resps); r.Status != StatusOK {
		t.Errorf("completing part acknowledged with %s", r.Status)
	}
}

func TestOnInboundErrorAsksTheSMSCToRedeliverWithRXTAPPN(t *testing.T) {
	srv := newTestSMSC(t, nil)
	startClient(t, srv.addr, nil, func(context.Context, sms.Inbound) error { return errors.New("database down") })
	recv(t, srv.binds)
	srv.request(PDU{Command: DeliverSM, SM: SM{Source: "447700900123", ShortMessage: []byte("STOP")}})
	if r := recv(t, srv.resps); r.Command != DeliverSMResp || r.Status != StatusXTAppn {
		t.Errorf("got %s %s, want deliver_sm_resp ESME_RX_T_APPN (0x64)", CommandName(r.Command), r.Status)
	}
}

func TestUndecodableGSMTextIsKeptAsLatin1(t *testing.T) {
	srv := newTestSMSC(t, nil)
	got := make(chan sms.Inbound, 1)
	startClient(t, srv.addr, nil, func(_ context.Context, in sms.Inbound) error { got <- in; return nil })
	recv(t, srv.binds)
	srv.request(PDU{Command: DeliverSM, SM: SM{Source: "447700900123", ShortMessage: []byte("caf\xe9")}})
	if in := recv(t, got); in.Body != "café" {
		t.Errorf("body %q, want the bytes as Latin-1 %q", in.Body, "café")
	}
}

func TestClientRebindsAndSendsAfterTheSMSCDropsTheConnection(t *testing.T) {
	srv := newTestSMSC(t, nil)
	c := startClient(t, srv.addr, nil, nil)
	recv(t, srv.binds)
	srv.drop()
	recv(t, srv.binds)
	// The SMSC has the new bind; the client is bound once it has read the
	// answer (under -race a send could come first: "not bound"). A guard,
	// not a measure: the poll ends at the first sign of the bound session.
	for deadline := time.Now().Add(10 * time.Second); !c.Bound() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := c.Send(context.Background(), msg("447700900123", "after")); err != nil {
		t.Errorf("Send after reconnect: %v", err)
	}
}

func TestClientAnswersTheSMSCsEnquireLinkAndUnbind(t *testing.T) {
	srv := newTestSMSC(t, nil)
	startClient(t, srv.addr, nil, nil)
	recv(t, srv.binds)
	for _, cmd := range []uint32{EnquireLink, Unbind} {
		seq := srv.request(PDU{Command: cmd})
		if r := recv(t, srv.resps); r.Command != cmd|GenericNack || r.Seq != seq || r.Status != StatusOK {
			t.Errorf("answer to %s: %s seq %d %s", CommandName(cmd), CommandName(r.Command), r.Seq, r.Status)
		}
	}
	recv(t, srv.binds) // unbound by the SMSC, the client binds again
}

func TestClientSendsEnquireLinkAndUnbindsWhenStopped(t *testing.T) {
	srv := newTestSMSC(t, nil)
	c := New(Config{Addr: srv.addr, SystemID: "perk", EnquireLink: 10 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	recv(t, srv.enquire)
	cancel()
	recv(t, srv.unbinds)
	if err := recv(t, done); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}
