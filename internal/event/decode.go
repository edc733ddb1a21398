package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/problem"
)

// Limits of one batch and one event.
const (
	MaxBatch      = 1000     // events per request
	MaxBody       = 1 << 20  // bytes per request
	MaxProperties = 16 << 10 // bytes of one event's properties, as sent
	MaxFuture     = 24 * time.Hour
	maxIDLen      = 128
	maxTypeLen    = 64
)

// Incoming is one accepted event of a batch, before it is stored: Member is
// the member key as sent (an id or an 8-digit code), resolved at ingestion.
type Incoming struct {
	Index  int
	Member string
	// IdentifyToken is the sender's proof that it may name Member
	// (token.go); checked at ingestion, never stored.
	IdentifyToken string
	Event         Event
}

// Rejection says why one event of a batch was not kept.
type Rejection struct {
	Index   int    `json:"index"`
	EventID string `json:"event_id,omitempty"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Reason  string `json:"reason"`
}

// wire is an event as clients send it.
type wire struct {
	EventID     string          `json:"event_id"`
	Type        string          `json:"type"`
	Time        time.Time       `json:"time"`
	AnonymousID string          `json:"anonymous_id"`
	Member      string          `json:"member"`
	Channel     Channel         `json:"channel"`
	SessionID   string          `json:"session_id"`
	Properties  json.RawMessage `json:"properties"`
	// IdentifyToken lets a public key name a member (token.go).
	IdentifyToken string `json:"identify_token"`
}

// ErrBatch is the kind of error Decode returns for a body that is not a batch
// at all; a bad event is a Rejection instead.
var ErrBatch = problem.New(problem.BadRequest, "batch_invalid", "not a batch of events")

// Decode reads a batch `{"events":[...]}` received at now. Each event is
// checked on its own: the good ones come back in order, each bad one as a
// Rejection with its index, so one typo never costs the rest. An error means
// the body as a whole is unusable (not JSON, no events, too many).
func Decode(body []byte, now time.Time) ([]Incoming, []Rejection, error) {
	// The common case, a batch every event of which is well-formed JSON of
	// the right shape, is read in one pass (by hand when it is written as
	// senders write it, fastdecode.go); only a batch with a malformed event
	// is read again event by event, to say which one and why.
	if evs, ok := decodeFast(body); ok {
		return check(len(evs), func(i int) (wire, *Rejection) { return evs[i], nil }, now)
	}
	if evs, ok := decodeWhole(body); ok {
		return check(len(evs), func(i int) (wire, *Rejection) { return evs[i], nil }, now)
	}
	return decodeEach(body, now)
}

// decodeEach reads a batch event by event, so that a malformed one is
// rejected alone, with its index and reason.
func decodeEach(body []byte, now time.Time) ([]Incoming, []Rejection, error) {
	var batch struct {
		Events []json.RawMessage `json:"events"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&batch); err != nil {
		return nil, nil, batchError("", "body must be a JSON object {\"events\":[...]}: "+jsonReason(err))
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return nil, nil, batchError("", "body must hold a single JSON object")
	}
	if batch.Events == nil {
		return nil, nil, batchError("events", "events is missing")
	}
	return check(len(batch.Events), func(i int) (wire, *Rejection) { return decodeWire(batch.Events[i]) }, now)
}

// decodeWhole reads a batch whose events all decode; ok is false for any
// other body, which Decode then reads again to explain.
func decodeWhole(body []byte) ([]wire, bool) {
	var batch struct {
		Events []wire `json:"events"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if dec.Decode(&batch) != nil || batch.Events == nil || dec.Decode(&struct{}{}) != io.EOF {
		return nil, false
	}
	return batch.Events, true
}

// check validates n decoded events, the i-th given by get.
func check(n int, get func(i int) (wire, *Rejection), now time.Time) ([]Incoming, []Rejection, error) {
	if n > MaxBatch {
		return nil, nil, &problem.Error{Kind: problem.TooLarge, Code: "batch_too_large", Field: "events",
			Message: fmt.Sprintf("%d events in one batch, at most %d", n, MaxBatch)}
	}
	ok := make([]Incoming, 0, n)
	var bad []Rejection
	for i := range n {
		w, rej := get(i)
		var in Incoming
		if rej == nil {
			in, rej = validate(w, now)
		}
		if rej != nil {
			rej.Index = i
			bad = append(bad, *rej)
			continue
		}
		in.Index = i
		ok = append(ok, in)
	}
	return ok, bad, nil
}

func batchError(field, msg string) error {
	return &problem.Error{Kind: problem.BadRequest, Code: ErrBatch.Code, Field: field, Message: msg}
}

func reject(id, code, field, format string, args ...any) *Rejection {
	return &Rejection{EventID: id, Code: code, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// customType is the documented rule for a client's own types: lower-case
// words joined by "_" with at least one "." namespace, "acme.wishlist_added",
// so they never collide with a standard type added later.
var customType = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// decodeWire reads one event of a batch that did not decode whole.
func decodeWire(raw json.RawMessage) (wire, *Rejection) {
	var w wire
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		var peek struct {
			EventID string `json:"event_id"`
		}
		json.Unmarshal(raw, &peek)
		return w, reject(peek.EventID, "event_malformed", jsonField(err), "%s", jsonReason(err))
	}
	return w, nil
}

// validate checks one decoded event against the contract of docs/events.md.
func validate(w wire, now time.Time) (Incoming, *Rejection) {
	switch {
	case w.EventID == "" || len(w.EventID) > maxIDLen || strings.HasPrefix(w.EventID, "perk:"):
		return Incoming{}, reject(w.EventID, "event_id_invalid", "event_id", "event_id is required, at most %d characters, not starting with \"perk:\"", maxIDLen)
	case w.Time.IsZero():
		return Incoming{}, reject(w.EventID, "time_required", "time", "time is required (RFC 3339)")
	case w.Time.After(now.Add(MaxFuture)):
		return Incoming{}, reject(w.EventID, "time_in_future", "time", "time is more than %s ahead of the server's clock", MaxFuture)
	case !validChannel(w.Channel):
		return Incoming{}, reject(w.EventID, "channel_invalid", "channel", "channel must be one of sms, web, app, pos, card")
	case w.AnonymousID == "" && w.Member == "" && w.IdentifyToken == "":
		return Incoming{}, reject(w.EventID, "person_required", "anonymous_id", "an event needs an anonymous_id, a member or both")
	case len(w.AnonymousID) > maxIDLen || len(w.SessionID) > maxIDLen || len(w.Member) > maxIDLen:
		return Incoming{}, reject(w.EventID, "id_too_long", "", "anonymous_id, member and session_id are at most %d characters", maxIDLen)
	case len(w.Properties) > MaxProperties:
		return Incoming{}, reject(w.EventID, "properties_too_large", "properties", "properties are %d bytes, at most %d", len(w.Properties), MaxProperties)
	}
	props := w.Properties
	if len(bytes.TrimSpace(props)) == 0 || bytes.Equal(bytes.TrimSpace(props), []byte("null")) {
		props = json.RawMessage(`{}`)
	}
	var c common
	if v, ok := standard[w.Type]; ok {
		var err error
		if fc, good := fastProps(w.Type, props); good {
			c = fc
		} else if c, err = v(props); err != nil {
			var fe *fieldError
			errors.As(err, &fe)
			return Incoming{}, reject(w.EventID, "properties_invalid", "properties."+fe.field, "%s", fe.msg)
		}
		if w.Type == Identified && (w.AnonymousID == "" || (w.Member == "" && w.IdentifyToken == "")) {
			return Incoming{}, reject(w.EventID, "identify_incomplete", "member", "identified needs anonymous_id and a member or an identify_token")
		}
	} else if reserved(w.Type) {
		return Incoming{}, reject(w.EventID, "type_reserved", "type", "%q is written by Perk itself", w.Type)
	} else if len(w.Type) > maxTypeLen || !customType.MatchString(w.Type) {
		return Incoming{}, reject(w.EventID, "type_invalid", "type",
			"%q is neither a standard type nor a custom one (namespace.name in lower case, e.g. acme.wishlist_added, at most %d characters)", w.Type, maxTypeLen)
	} else {
		var err error
		if c, err = customProperties(props); err != nil {
			return Incoming{}, reject(w.EventID, "properties_invalid", "properties", "%s", err.(*fieldError).msg)
		}
	}
	// Stored compact; most senders already send it so (no white space at
	// all), which saves a copy.
	if bytes.ContainsAny(props, " \t\r\n") {
		var compact bytes.Buffer
		if err := json.Compact(&compact, props); err != nil {
			return Incoming{}, reject(w.EventID, "properties_invalid", "properties", "properties are not JSON")
		}
		props = compact.Bytes()
	}
	return Incoming{Member: w.Member, IdentifyToken: w.IdentifyToken, Event: Event{
		EventID: w.EventID, Type: w.Type, Time: Normal(w.Time), ReceivedAt: Normal(now), Channel: w.Channel,
		Source: SourceAPI, AnonymousID: w.AnonymousID, SessionID: w.SessionID,
		Campaign: c.Campaign, Store: c.Store, OrderID: c.OrderID, Properties: props,
	}}, nil
}

// Normal is t as stored: UTC, to the microsecond (PostgreSQL's precision),
// so a time read back equals the one written.
func Normal(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func validChannel(c Channel) bool {
	for _, v := range Channels {
		if c == v {
			return true
		}
	}
	return false
}

func reserved(t string) bool {
	switch t {
	case SMSSent, SMSDelivered, SMSFailed, SMSReplied, LinkClicked, CardViewed, MemberJoined,
		MemberOptedOut, BasketCommitted, BasketReturned, OfferRedeemed, IdentityMerged, CampaignVariance, JourneyVariance:
		return true
	}
	return false
}

func jsonReason(err error) string {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typeErr):
		return fmt.Sprintf("%s: wrong type (%s)", typeErr.Field, typeErr.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or cut short"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonField(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return typeErr.Field
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(f, `"`)
	}
	return ""
}
