package smpp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
)

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test smsc"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func newSink(t *testing.T, cfg *tls.Config) *Sink {
	t.Helper()
	s, err := NewSink("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// runBinds runs b until the test ends.
func runBinds(t *testing.T, b *Binds) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := recv(t, done); err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	})
}

// sendEach sends n messages at once and fails the test on any error.
func sendEach(t *testing.T, gw sms.Gateway, n int) []sms.Submitted {
	t.Helper()
	subs := make([]sms.Submitted, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			subs[i], errs[i] = gw.Send(context.Background(), sms.Message{ID: fmt.Sprint("m", i),
				To: fmt.Sprintf("+4474%08d", i), Body: "hello"})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return subs
}

// SMPP over TLS: smpps:// URLs verify the SMSC's certificate; a client
// trusting it sends and gets its receipts, one that does not never binds.
func TestTLS_SendsAndReceivesOverTLSOnlyToATrustedSMSC(t *testing.T) {
	cert, pool := selfSigned(t)
	sink := newSink(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	for _, tc := range []struct {
		name    string
		roots   *x509.CertPool
		wantErr bool
	}{
		{"trusted", pool, false},
		{"untrusted", x509.NewCertPool(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseURL("smpps://perk:secret@" + sink.Addr() + "?window=5")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.TLS == nil || cfg.TLS.ServerName != "127.0.0.1" {
				t.Fatalf("smpps:// gave TLS config %+v", cfg.TLS)
			}
			cfg.TLS.RootCAs = tc.roots
			cfg.ResponseTimeout, cfg.BindTimeout = 2*time.Second, 2*time.Second
			c := New(testConfig(cfg.Addr, func(c *Config) { c.TLS = cfg.TLS }), nil)
			got := make(chan []sms.Receipt, 10)
			c.SetReceiptBatchHandler(func(_ context.Context, rs []sms.Receipt) error { got <- rs; return nil })
			runClient(t, c)
			sub, err := c.Send(context.Background(), msg("447700900123", "over TLS"))
			if tc.wantErr {
				if err == nil {
					t.Fatal("sent to an SMSC whose certificate is not trusted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rs := recv(t, got); len(rs) != 1 || rs[0].GatewayID != sub.GatewayID || rs[0].State != sms.Delivered {
				t.Fatalf("receipts %+v for %+v", rs, sub)
			}
		})
	}
}

// Several binds: each is its own connection with its own window, so the
// messages in flight may reach binds x window, and all of them go out.
func TestBinds_EachBindHasItsOwnWindow(t *testing.T) {
	sink := newSink(t, nil)
	for _, binds := range []int{1, 3} {
		t.Run(fmt.Sprint(binds, " binds"), func(t *testing.T) {
			b := NewBinds(testConfig(sink.Addr(), func(c *Config) { c.Binds, c.Window = binds, 4 }), nil)
			if len(b.Clients()) != binds || b.Window() != 4*binds {
				t.Fatalf("%d clients, window %d", len(b.Clients()), b.Window())
			}
			var stored sync.WaitGroup
			stored.Add(200)
			b.SetReceiptBatchHandler(func(_ context.Context, rs []sms.Receipt) error {
				for range rs {
					stored.Done()
				}
				return nil
			})
			before := sink.Binds()
			runBinds(t, b)
			for !b.Bound() || sink.Binds()-before < int64(binds) {
				time.Sleep(time.Millisecond)
			}
			subs := sendEach(t, b, 200)
			stored.Wait()
			ids := map[string]bool{}
			for _, s := range subs {
				ids[s.GatewayID] = true
			}
			if len(ids) != 200 || sink.Binds()-before != int64(binds) {
				t.Fatalf("%d distinct ids of 200; %d binds", len(ids), sink.Binds()-before)
			}
		})
	}
}

// Storing receipts never stalls the submit window: while the store is
// blocked, submit_sm_resp are still read and sends complete; the receipts
// that queued meanwhile are then stored together, in one call, and only
// then acknowledged.
func TestReceipts_AStoreThatBlocksDoesNotStallTheWindowAndTakesTheWaitingReceiptsAtOnce(t *testing.T) {
	sink := newSink(t, nil)
	c := New(testConfig(sink.Addr(), func(c *Config) { c.Window = 10 }), nil)
	release := make(chan struct{})
	calls := make(chan int, 200)
	c.SetReceiptBatchHandler(func(_ context.Context, rs []sms.Receipt) error {
		<-release
		calls <- len(rs)
		return nil
	})
	runClient(t, c)
	const n = 200
	sendEach(t, c, n) // would hang with the reader waiting on the store
	if got := sink.Receipts(); got != 0 {
		t.Fatalf("%d receipts acknowledged before any was stored", got)
	}
	close(release)
	first, second := recv(t, calls), recv(t, calls)
	// The receipt of every message but the last was read before the last
	// submit_sm_resp, so all but the first call's are in the second.
	if first+second < n-1 {
		t.Fatalf("the first two calls stored %d and %d receipts of %d: not everything waiting at once", first, second, n)
	}
	for sum := first + second; sum < n; sum += recv(t, calls) {
	}
	for sink.Receipts() != n {
		time.Sleep(time.Millisecond)
	}
}
