// Package member is Perk's register of shoppers: enrolment by every channel,
// the 8-digit member code, lookups at the till, consent, card tokens, bulk
// import from CRM files and erasure.
//
// It owns the members, consents, card_tokens and optin_confirmations tables
// and queues the transactional SMS that enrolment causes (welcome, opt-in
// confirmation) in sms_outbox; sending them is the sms package's job.
package member

import (
	"time"

	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
)

// Status is where a member stands for marketing messages.
type Status string

// Member statuses. Only active members may receive marketing SMS;
// transactional messages (their code, an opt-out confirmation) go to any
// member who is not erased.
const (
	StatusActive   Status = "active"    // consented to marketing SMS
	StatusPending  Status = "pending"   // double opt-in requested, not yet confirmed
	StatusOptedOut Status = "opted_out" // never consented, or withdrew consent
	StatusErased   Status = "erased"    // personal data removed; the row remains for aggregates
)

// Channel is how a member enrolled or how a consent was given.
type Channel string

// Enrolment and consent channels.
const (
	ChannelSMS    Channel = "sms"
	ChannelWeb    Channel = "web"
	ChannelAPI    Channel = "api"
	ChannelImport Channel = "import"
	ChannelPOS    Channel = "pos"
)

// Valid reports whether c is one of the known channels.
func (c Channel) Valid() bool {
	switch c {
	case ChannelSMS, ChannelWeb, ChannelAPI, ChannelImport, ChannelPOS:
		return true
	}
	return false
}

// Member is one enrolled shopper.
type Member struct {
	ID         string            `json:"id"`
	Code       Code              `json:"code"`
	Phone      phone.Number      `json:"phone,omitempty"`
	FirstName  string            `json:"first_name,omitempty"`
	LastName   string            `json:"last_name,omitempty"`
	Email      string            `json:"email,omitempty"`
	Birthday   string            `json:"birthday,omitempty"` // YYYY-MM-DD
	HomeStore  string            `json:"home_store,omitempty"`
	ExternalID string            `json:"external_id,omitempty"`
	Attributes map[string]string `json:"attributes"`
	Tags       []string          `json:"tags"`
	TimeZone   string            `json:"timezone,omitempty"` // IANA; from the phone's region unless set
	Locale     string            `json:"locale,omitempty"`   // BCP 47, for the texts they get; "" is the programme's
	Channel    Channel           `json:"channel"`
	Source     string            `json:"source,omitempty"`
	Status     Status            `json:"status"`
	EnrolledAt time.Time         `json:"enrolled_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	ErasedAt   *time.Time        `json:"erased_at,omitempty"`
}

// Name is the member's display name, "" when none was given.
func (m *Member) Name() string {
	switch {
	case m.FirstName != "" && m.LastName != "":
		return m.FirstName + " " + m.LastName
	case m.FirstName != "":
		return m.FirstName
	}
	return m.LastName
}

// Marketable reports whether marketing messages may go to the member.
func (m *Member) Marketable() bool { return m.Status == StatusActive }

// Errors callers branch on.
var (
	ErrNotFound      = problem.New(problem.NotFound, "member_not_found", "member not found")
	ErrErased        = problem.New(problem.Conflict, "member_erased", "member has been erased")
	ErrPhoneTaken    = problem.New(problem.Conflict, "phone_taken", "another member has this phone number")
	ErrExternalTaken = problem.New(problem.Conflict, "external_id_taken", "another member has this external ID")
	ErrTokenNotFound = problem.New(problem.NotFound, "token_not_found", "link not found or no longer valid")
)
