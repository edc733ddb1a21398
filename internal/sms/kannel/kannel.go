package kannel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/gsm"
)

// Kannel's data codings (the sendsms coding parameter).
const (
	coding7Bit = 0
	codingUCS2 = 2
)

// idPrefix marks gateway ids as Kannel's. Kannel's own message id is not
// known when sendsms answers, so the id is Perk's, which the dlr-url carries
// back.
const idPrefix = "kannel:"

// Gateway sends through Kannel's sendsms interface and turns Kannel's
// callbacks (see Handler) into inbound messages and receipts.
type Gateway struct {
	cfg       Config
	onInbound func(context.Context, sms.Inbound) error
	receipts  chan sms.Receipt
	onReceipt func(context.Context, sms.Receipt) error // if set, receipts go here instead of the channel
	now       func() time.Time
}

// New returns a gateway. onInbound is called for every MO message Kannel
// posts to Handler; Kannel is told to retry unless it returns nil. A zero
// DLRMask becomes DefaultDLRMask, a nil Client one with a 30 s timeout, a
// nil Log slog.Default().
func New(cfg Config, onInbound func(context.Context, sms.Inbound) error) *Gateway {
	if cfg.DLRMask == 0 {
		cfg.DLRMask = DefaultDLRMask
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Gateway{cfg: cfg, onInbound: onInbound, receipts: make(chan sms.Receipt, 1024), now: time.Now}
}

// Name is "kannel".
func (g *Gateway) Name() string { return "kannel" }

// Receipts delivers the final delivery reports Kannel posts to Handler.
func (g *Gateway) Receipts() <-chan sms.Receipt { return g.receipts }

// SetReceiptHandler makes the DLR endpoint hand each final receipt to f and
// answer Kannel 200 only once f has stored it (503 otherwise, so Kannel
// retries). Receipts then no longer appear on Receipts. Call it before the
// handler serves.
func (g *Gateway) SetReceiptHandler(f func(context.Context, sms.Receipt) error) { g.onReceipt = f }

// Send submits m to Kannel. The destination is passed in E.164 with its
// leading '+': Kannel accepts it, and SMSC modules such as SMPP read the '+'
// as "international number" (setting the TON) instead of guessing.
// Submitted.GatewayID is "kannel:" + m.ID.
func (g *Gateway) Send(ctx context.Context, m sms.Message) (sms.Submitted, error) {
	if m.To == "" {
		return sms.Submitted{}, fmt.Errorf("kannel: no destination: %w", sms.ErrPermanent)
	}
	if !unreserved(m.ID) || m.ID == "" {
		// The id rides unescaped in the dlr-url (see checkSecret); Perk's ids
		// (prefix_base32) always qualify.
		return sms.Submitted{}, fmt.Errorf("kannel: message id %q cannot travel in a dlr-url: %w", m.ID, sms.ErrPermanent)
	}
	_, segments := gsm.Segments(m.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.cfg.SendURL+"?"+g.query(m).Encode(), nil)
	if err != nil {
		return sms.Submitted{}, fmt.Errorf("kannel: %v: %w", err, sms.ErrPermanent)
	}
	resp, err := g.cfg.Client.Do(req)
	if err != nil {
		// Connection refused, timeouts and cancellation: Kannel may be
		// restarting, so try again later. (The error can contain the
		// password in the URL; url.Error redacts only userinfo, so strip it.)
		return sms.Submitted{}, fmt.Errorf("kannel: sendsms: %s: %w", redact(err), sms.ErrTemporary)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err := classify(resp.StatusCode, string(body)); err != nil {
		return sms.Submitted{}, err
	}
	return sms.Submitted{GatewayID: idPrefix + m.ID, Segments: segments}, nil
}

// query builds the sendsms parameters for m.
func (g *Gateway) query(m sms.Message) url.Values {
	q := url.Values{}
	q.Set("username", g.cfg.User)
	q.Set("password", g.cfg.Pass)
	if g.cfg.From != "" {
		q.Set("from", g.cfg.From)
	}
	q.Set("to", m.To)
	q.Set("text", m.Body)
	// charset tells Kannel the text is UTF-8 (Go strings are); it converts
	// to the GSM alphabet for coding 0 and to UCS-2 for coding 2.
	q.Set("charset", "UTF-8")
	if gsm.Choose(m.Body) == gsm.UCS2 {
		q.Set("coding", strconv.Itoa(codingUCS2))
	} else {
		q.Set("coding", strconv.Itoa(coding7Bit))
	}
	if g.cfg.PublicURL != "" {
		q.Set("dlr-mask", strconv.Itoa(g.cfg.DLRMask))
		q.Set("dlr-url", g.dlrURL(m.ID))
	}
	return q
}

// dlrURL is the callback Kannel requests for each delivery report. Kannel
// replaces %d (status bits), %A (SMSC answer) and %T (unix time) itself;
// secret and id are unreserved, so they need no escaping that Kannel's
// %-substitution could misread.
func (g *Gateway) dlrURL(id string) string {
	return g.cfg.PublicURL + DLRPath + "?secret=" + g.cfg.Secret + "&id=" + id + "&status=%d&answer=%A&ts=%T"
}

// classify turns smsbox's answer into nil or an error that says whether to
// retry. smsbox answers 202 "0: Accepted for delivery" or "3: Queued for
// later delivery" (200 "Sent." in old versions); 403 for bad credentials,
// 400 for missing or bad arguments; 503 when its queue is full.
func classify(status int, body string) error {
	answer := strings.TrimSpace(body)
	switch {
	case status == http.StatusOK || status == http.StatusAccepted:
		return nil
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests ||
		status == http.StatusRequestTimeout || status >= 500:
		return fmt.Errorf("kannel: sendsms %d %q: %w", status, answer, sms.ErrTemporary)
	default:
		// 4xx and anything unexpected: the same request would fail again.
		return fmt.Errorf("kannel: sendsms %d %q: %w", status, answer, sms.ErrPermanent)
	}
}

// redact returns err's text without the request URL, which carries the
// sendsms password.
func redact(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
