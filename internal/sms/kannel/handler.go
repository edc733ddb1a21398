package kannel

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/gsm"
)

// Paths of the endpoints Kannel calls, relative to Config.PublicURL.
const (
	MOPath  = "/kannel/mo"
	DLRPath = "/kannel/dlr"
)

// Kannel's DLR types, the %d of a dlr-url. Each report carries one of them.
const (
	dlrDelivered = 1  // delivered to the phone
	dlrFailed    = 2  // not delivered
	dlrBuffered  = 4  // queued at the SMSC (intermediate)
	dlrSubmit    = 8  // accepted by the SMSC (intermediate)
	dlrReject    = 16 // rejected by the SMSC
)

// Handler returns the HTTP handler for Kannel's callbacks, to be mounted at
// the root of Config.PublicURL. In kannel.conf:
//
//	group = smsbox
//	http-request-retry = 5        # retry get-url / dlr-url when Perk answers 503
//	group = sms-service
//	keyword = default
//	get-url = "http://perk-host:8080/kannel/mo?secret=S&from=%p&to=%P&text=%a&ts=%T&coding=%c&charset=%C"
//	max-messages = 0              # Perk replies through sendsms, never with the response body
//	catch-all = true
//
// Every request must carry secret=S (compared in constant time), else 403.
// MO requests are answered 200 with an empty body only once onInbound has
// returned nil, and 503 otherwise so that Kannel retries. DLR requests
// (the dlr-url Send builds) emit a receipt for final reports only.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(MOPath, g.guard(g.mo))
	mux.HandleFunc(DLRPath, g.guard(g.dlr))
	return mux
}

// guard admits GET and POST requests that carry the shared secret.
func (g *Gateway) guard(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.FormValue("secret")
		// An unset secret would match an empty one: refuse everything instead.
		if g.cfg.Secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(g.cfg.Secret)) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		next(w, r)
	}
}

// mo hands an inbound message to onInbound.
func (g *Gateway) mo(w http.ResponseWriter, r *http.Request) {
	in := sms.Inbound{
		From:       strings.TrimSpace(r.FormValue("from")),
		To:         strings.TrimSpace(r.FormValue("to")),
		Body:       moText(r.FormValue("text"), r.FormValue("coding"), r.FormValue("charset")),
		ReceivedAt: g.at(r.FormValue("ts")),
	}
	if in.From == "" {
		http.Error(w, "missing from", http.StatusBadRequest)
		return
	}
	if g.onInbound == nil {
		http.Error(w, "no inbound handler", http.StatusServiceUnavailable)
		return
	}
	if err := g.onInbound(r.Context(), in); err != nil {
		g.cfg.Log.ErrorContext(r.Context(), "kannel mo", "err", err)
		// A body would become a reply SMS if max-messages were not 0; keep
		// it to the status line.
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// moText returns the MO text as UTF-8. Kannel hands over UCS-2 messages'
// bytes as they came (UTF-16BE, %c = 2) unless the sms-service converts
// them, so decode those; everything else is already text.
func moText(text, coding, charset string) string {
	if coding != "2" {
		return text
	}
	switch strings.ToUpper(charset) {
	case "UTF-16BE", "UCS-2", "UCS-2BE", "UTF-16":
		return gsm.DecodeUCS2([]byte(text))
	}
	return text
}

// dlr turns a final delivery report into a receipt.
func (g *Gateway) dlr(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	status, err := strconv.Atoi(r.FormValue("status"))
	if id == "" || err != nil {
		http.Error(w, "missing id or status", http.StatusBadRequest)
		return
	}
	state, final := dlrState(status)
	if !final {
		// Buffered and SMSC-submit reports say the message is on its way,
		// which sms_outbox already records as sent.
		w.WriteHeader(http.StatusOK)
		return
	}
	rc := sms.Receipt{GatewayID: idPrefix + id, State: state, At: g.at(r.FormValue("ts"))}
	if g.onReceipt != nil {
		if err := g.onReceipt(r.Context(), rc); err != nil {
			http.Error(w, "receipt not stored, retry", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	select {
	case g.receipts <- rc:
		w.WriteHeader(http.StatusOK)
	case <-r.Context().Done():
		// Nobody is draining receipts: let Kannel retry rather than lose it.
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

// dlrState maps Kannel's DLR type to a delivery state, and reports whether
// the report is final (worth a receipt).
func dlrState(status int) (string, bool) {
	switch {
	case status&dlrDelivered != 0:
		return sms.Delivered, true
	case status&(dlrFailed|dlrReject) != 0:
		return sms.Undeliv, true
	default: // dlrBuffered, dlrSubmit, or nothing known
		return "", false
	}
}

// at reads Kannel's %T (unix seconds), falling back to now.
func (g *Gateway) at(ts string) time.Time {
	if n, err := strconv.ParseInt(ts, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC()
	}
	return g.now().UTC()
}
