// Package kannel is the SMS gateway that sends through Kannel's smsbox HTTP
// sendsms interface and receives MO messages and delivery reports on HTTP
// endpoints that Kannel calls (see Handler for the sms-service it expects).
//
// The sendsms-user Perk logs in as should allow long messages, since Perk
// sends a body whole and lets Kannel split it (Kannel's default is one part,
// which truncates):
//
//	group = sendsms-user
//	username = perk
//	password = ...
//	concatenation = true
//	max-messages = 10
//
// Without from= in the gateway URL, the user's default-sender or smsbox's
// global-sender must be set: smsbox rejects a message without a sender (400).
package kannel

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// DefaultDLRMask asks Kannel for every delivery report: delivered (1),
// failed (2), buffered (4), SMSC submit (8) and SMSC reject (16).
const DefaultDLRMask = 31

// defaultPort is smsbox's conventional sendsms-port.
const defaultPort = "13013"

// Config says how to reach Kannel and how Kannel reaches Perk.
type Config struct {
	SendURL   string // smsbox sendsms endpoint, e.g. http://host:13013/cgi-bin/sendsms
	User      string // sendsms-user username
	Pass      string // sendsms-user password
	From      string // sender id (short code or alphanumeric); empty leaves it to Kannel
	DLRMask   int    // dlr-mask sent with each message; 0 means DefaultDLRMask
	Secret    string // shared secret Kannel puts in its get-url and dlr-url
	PublicURL string // base URL at which Kannel reaches Perk, e.g. http://perk-host:8080; empty: no dlr-url, no receipts
	Client    *http.Client
	Log       *slog.Logger
}

// ParseURL reads a gateway URL of the form
//
//	kannel://user:pass@host:13013?dlr=31&from=PERK&secret=S&public=http://perk-host:8080
//
// The port defaults to 13013 and the path to /cgi-bin/sendsms. secret and
// public are required: without them Kannel could not call back. The secret
// must consist of URL-unreserved characters (letters, digits, "-._~"),
// because it travels unescaped through Kannel's %-substituted dlr-url.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("kannel url: %w", err)
	}
	if u.Scheme != "kannel" {
		return Config{}, fmt.Errorf("kannel url: scheme %q, want kannel", u.Scheme)
	}
	if u.Hostname() == "" {
		return Config{}, errors.New("kannel url: no host")
	}
	if u.User == nil || u.User.Username() == "" {
		return Config{}, errors.New("kannel url: no sendsms user (kannel://user:pass@host)")
	}
	port := u.Port()
	if port == "" {
		port = defaultPort
	}
	path := u.Path
	if path == "" || path == "/" {
		path = "/cgi-bin/sendsms"
	}
	send := url.URL{Scheme: "http", Host: net.JoinHostPort(u.Hostname(), port), Path: path}
	q := u.Query()
	cfg := Config{
		SendURL:   send.String(),
		User:      u.User.Username(),
		From:      q.Get("from"),
		DLRMask:   DefaultDLRMask,
		Secret:    q.Get("secret"),
		PublicURL: strings.TrimRight(q.Get("public"), "/"),
	}
	cfg.Pass, _ = u.User.Password()
	if s := q.Get("dlr"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 31 {
			return Config{}, fmt.Errorf("kannel url: dlr=%q, want a mask from 1 to 31", s)
		}
		cfg.DLRMask = n
	}
	if err := checkSecret(cfg.Secret); err != nil {
		return Config{}, fmt.Errorf("kannel url: %w", err)
	}
	if cfg.PublicURL == "" {
		return Config{}, errors.New("kannel url: no public= (the base URL at which Kannel reaches Perk)")
	}
	p, err := url.Parse(cfg.PublicURL)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return Config{}, fmt.Errorf("kannel url: public=%q is not an http(s) URL", cfg.PublicURL)
	}
	return cfg, nil
}

// checkSecret rejects an empty secret (the handler would accept anyone) and
// one with characters that would need %-escaping: Kannel reads "%A", "%B",
// "%C"... in a dlr-url as its own substitutions, so an escaped secret could
// come back mangled.
func checkSecret(s string) error {
	if s == "" {
		return errors.New("no secret=")
	}
	if !unreserved(s) {
		return errors.New("secret= may only contain letters, digits and -._~")
	}
	return nil
}

// unreserved reports whether s needs no escaping in a URL query.
func unreserved(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
