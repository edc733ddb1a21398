package smpp

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config of a connection to one SMSC.
type Config struct {
	Addr       string // host:port
	SystemID   string // at most 15 characters (section 4.1.1)
	Password   string // at most 8 characters
	SystemType string // often empty; some SMSCs route by it
	Source     string // sender id: alphanumeric (up to 11) or a number

	TPS    int // submit_sm per second; 0 means no limit
	Window int // most submit_sm awaiting a response; 0 means 10

	// Binds is how many transceiver binds NewBinds keeps to the SMSC,
	// each with its own Window (the protocol's limit is per bind, and
	// operators give several); 0 means 1. TPS is per bind.
	Binds int

	// TLS, if set, makes the connection SMPP over TLS (smpps://).
	TLS *tls.Config

	// ReceiptIDs says how receipts' message ids are matched to
	// submit_sm_resp's; "" means IDExact, as the SMSC wrote them.
	ReceiptIDs IDMatch

	EnquireLink     time.Duration // keep-alive interval; 0 means 30 s
	BindTimeout     time.Duration // connect plus bind; 0 means 10 s
	ResponseTimeout time.Duration // wait for any response; 0 means 10 s

	Log *slog.Logger // nil means slog.Default()
	// Registry receives the client's series (bind state, window, submit
	// latency; see Client); nil means they are kept nowhere.
	Registry prometheus.Registerer
}

// withDefaults fills the zero fields as documented above.
func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = 10
	}
	if c.Binds <= 0 {
		c.Binds = 1
	}
	if c.ReceiptIDs == "" {
		c.ReceiptIDs = IDExact
	}
	if c.EnquireLink <= 0 {
		c.EnquireLink = 30 * time.Second
	}
	if c.BindTimeout <= 0 {
		c.BindTimeout = 10 * time.Second
	}
	if c.ResponseTimeout <= 0 {
		c.ResponseTimeout = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// ParseURL reads a connection URL:
//
//	smpp://system_id:password@host:2775?system_type=&source=PERK&tps=100&window=50&binds=1&bind=trx&receipt_ids=exact
//
// The port defaults to 2775 (the IANA port for SMPP). smpps:// is SMPP over
// TLS, verified against the system's roots, port 3550 by default (IANA's
// ssmpp). binds is how many binds to keep (see Config.Binds). bind may only be trx
// (a transceiver: one connection both sends and receives), since the client
// needs receipts and MO on the connection it submits on. receipt_ids is
// exact (the default), dec, hex or dec2hex (see IDMatch). Credentials are
// percent-decoded, so a password may hold any character.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("smpp url: %w", err)
	}
	if u.Scheme != "smpp" && u.Scheme != "smpps" {
		return Config{}, fmt.Errorf("smpp url: scheme %q, want smpp or smpps", u.Scheme)
	}
	if u.Hostname() == "" {
		return Config{}, fmt.Errorf("smpp url: no host")
	}
	port := u.Port()
	if port == "" {
		port = "2775"
		if u.Scheme == "smpps" {
			port = "3550"
		}
	}
	c := Config{Addr: net.JoinHostPort(u.Hostname(), port)}
	if u.Scheme == "smpps" {
		c.TLS = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	}
	if u.User != nil {
		c.SystemID = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if c.SystemID == "" {
		return Config{}, fmt.Errorf("smpp url: no system_id")
	}
	if len(c.SystemID) > 15 || len(c.Password) > 8 {
		return Config{}, fmt.Errorf("smpp url: system_id over 15 or password over 8 characters (SMPP 3.4 limits)")
	}
	q := u.Query()
	c.SystemType, c.Source = q.Get("system_type"), q.Get("source")
	if len(c.SystemType) > 12 {
		return Config{}, fmt.Errorf("smpp url: system_type over 12 characters")
	}
	if c.TPS, err = intParam(q, "tps"); err != nil {
		return Config{}, err
	}
	if c.Window, err = intParam(q, "window"); err != nil {
		return Config{}, err
	}
	if c.Binds, err = intParam(q, "binds"); err != nil {
		return Config{}, err
	}
	if s := q.Get("receipt_ids"); s != "" {
		if c.ReceiptIDs, err = ParseIDMatch(s); err != nil {
			return Config{}, fmt.Errorf("smpp url: %w", err)
		}
	}
	if b := q.Get("bind"); b != "" && b != "trx" {
		return Config{}, fmt.Errorf("smpp url: bind=%q: only trx (transceiver) is supported", b)
	}
	return c, nil
}

func intParam(q url.Values, name string) (int, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("smpp url: %s=%q: want a whole number >= 0", name, s)
	}
	return n, nil
}
