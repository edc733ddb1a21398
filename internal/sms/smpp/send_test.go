package smpp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
)

func TestSendSinglePartGSMIsOneSubmitOfUnpackedSeptetsAskingForAReceipt(t *testing.T) {
	srv := newTestSMSC(t, nil)
	c := startClient(t, srv.addr, nil, nil)
	got, err := c.Send(context.Background(), msg("447700900123", "Hi @ you"))
	if err != nil {
		t.Fatal(err)
	}
	p := recv(t, srv.submits).SM
	want := []byte{'H', 'i', ' ', 0x00, ' ', 'y', 'o', 'u'} // '@' is septet 0x00
	if !bytes.Equal(p.ShortMessage, want) || p.DataCoding != 0 || p.ESMClass != 0 || p.RegisteredDelivery != 1 {
		t.Errorf("submit: short_message % X dc %d esm %#x reg %d; want % X dc 0 esm 0 reg 1",
			p.ShortMessage, p.DataCoding, p.ESMClass, p.RegisteredDelivery, want)
	}
	if p.Source != "PERK" || p.SourceTON != 5 || p.Dest != "447700900123" || p.DestTON != 1 || p.DestNPI != 1 {
		t.Errorf("addresses: source %q TON %d, dest %q TON %d NPI %d", p.Source, p.SourceTON, p.Dest, p.DestTON, p.DestNPI)
	}
	if got != (sms.Submitted{GatewayID: "0000AB0001", Segments: 1}) {
		t.Errorf("Send = %+v, want the SMSC's id 0000AB0001 as written and 1 segment", got)
	}
}

func TestSendSplitsLongMessagesWithOneUDHPerPartAndAReceiptOnlyOnTheLast(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		coding byte
	}{
		{"GSM-7 in three parts", strings.Repeat("abcdefghij", 40), 0x00},
		{"UCS-2 in three parts", strings.Repeat("Жизнь", 30), 0x08},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestSMSC(t, nil)
			c := startClient(t, srv.addr, nil, nil)
			got, err := c.Send(context.Background(), msg("447700900123", tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got.Segments != 3 || got.GatewayID != "0000AB0003" {
				t.Errorf("Send = %+v, want 3 segments named by the last part's id 0000AB0003", got)
			}
			seqs := map[uint32]bool{}
			var ref byte
			for k := range 3 {
				p := recv(t, srv.submits)
				seqs[p.Seq] = true
				sm := p.SM
				udh := sm.ShortMessage[:6]
				if k == 0 {
					ref = udh[3]
				}
				if want := []byte{5, 0, 3, ref, 3, byte(k + 1)}; !bytes.Equal(udh, want) {
					t.Errorf("part %d UDH % X, want % X", k+1, udh, want)
				}
				if sm.ESMClass != 0x40 || sm.DataCoding != tt.coding {
					t.Errorf("part %d esm_class %#x data_coding %#x, want 0x40 and %#x", k+1, sm.ESMClass, sm.DataCoding, tt.coding)
				}
				if wantReg := byte(0); k == 2 {
					wantReg = 1
					if sm.RegisteredDelivery != wantReg {
						t.Errorf("last part registered_delivery %d, want 1", sm.RegisteredDelivery)
					}
				} else if sm.RegisteredDelivery != wantReg {
					t.Errorf("part %d registered_delivery %d, want 0", k+1, sm.RegisteredDelivery)
				}
			}
			if len(seqs) != 3 {
				t.Errorf("parts used sequence numbers %v, want 3 distinct", seqs)
			}
		})
	}
}

func TestSendClassifiesTheSMSCsRefusal(t *testing.T) {
	tests := []struct {
		dest, name string
		class      error
	}{
		{destThrottled, "ESME_RTHROTTLED", sms.ErrTemporary},
		{destInvalid, "ESME_RINVDSTADR", sms.ErrPermanent},
	}
	srv := newTestSMSC(t, nil)
	c := startClient(t, srv.addr, nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Send(context.Background(), msg(tt.dest, "hello"))
			if !errors.Is(err, tt.class) || !strings.Contains(err.Error(), tt.name) {
				t.Errorf("Send error %v, want %v naming %s", err, tt.class, tt.name)
			}
			if strings.Contains(err.Error(), tt.dest) {
				t.Errorf("error %q shows the phone number unmasked", err)
			}
		})
	}
}

func TestSendFailsTemporarilyAtOnceWhenTheSMSCCannotBeReached(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // a port nobody listens on
	c := startClient(t, ln.Addr().String(), nil, nil)
	_, err = c.Send(context.Background(), msg("447700900123", "hello"))
	if !errors.Is(err, sms.ErrTemporary) {
		t.Errorf("Send error %v, want ErrTemporary", err)
	}
}

func TestFullWindowMakesSendWaitAndNeverDrops(t *testing.T) {
	gate := make(chan struct{})
	srv := newTestSMSC(t, gate)
	c := startClient(t, srv.addr, func(cfg *Config) { cfg.Window = 2 }, nil)
	const n = 5
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := c.Send(context.Background(), msg("447700900123", "hello"))
			errs <- err
		}()
	}
	recv(t, srv.submits)
	recv(t, srv.submits) // the window is now full

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Send(ctx, msg("447700900123", "late")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send with a full window and an expiring ctx: %v, want context.DeadlineExceeded", err)
	}
	for range n - 2 {
		gate <- struct{}{} // answering one lets exactly one more in
		recv(t, srv.submits)
	}
	for range 2 {
		gate <- struct{}{}
	}
	for range n {
		if err := recv(t, errs); err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	if m := srv.maxInFlight(); m > 2 {
		t.Errorf("the SMSC saw %d unanswered submit_sm at once, want at most the window of 2", m)
	}
}

func TestTPSLimitSpacesSubmitsOnceTheBurstIsSpent(t *testing.T) {
	start := time.Unix(0, 0)
	lim := newTPSLimit(10)
	// Each step is a submit at a moment; wait is how long it is held.
	steps := []struct {
		name string
		at   time.Duration
		n    int // submits at that moment, each expecting wait
		wait time.Duration
	}{
		{"a full bucket sends a second's worth at once", 0, 10, 0},
		{"the 11th within the second waits a tenth of a second at 10 TPS", 0, 1, 100 * time.Millisecond},
		{"the next one waits behind it", 0, 1, 200 * time.Millisecond},
		{"a second of idling refills a second's worth", 1200 * time.Millisecond, 10, 0},
		{"and no more", 1200 * time.Millisecond, 1, 100 * time.Millisecond},
	}
	for _, st := range steps {
		now := start.Add(st.at)
		for i := range st.n {
			if d := lim.ReserveN(now, 1).DelayFrom(now); d != st.wait {
				t.Fatalf("%s: submit %d waits %v, want %v", st.name, i+1, d, st.wait)
			}
		}
	}
	unlimited := newTPSLimit(0)
	for i := range 1000 {
		if d := unlimited.ReserveN(start, 1).DelayFrom(start); d != 0 {
			t.Fatalf("tps 0: submit %d waits %v, want no limit", i+1, d)
		}
	}
}
