package sms

import (
	"context"
	"errors"
	"time"
)

// Gateway submits messages to an SMS network: the built-in simulator, an
// SMPP SMSC or Kannel. Send returns once the gateway has accepted the
// message (not when it is delivered). Its error says what the sender does:
//   - errors.Is(err, ErrTemporary): try again later (throttled, queue full,
//     connection down);
//   - errors.Is(err, ErrPermanent): never retry (invalid destination,
//     rejected content);
//   - anything else is treated as temporary.
type Gateway interface {
	Send(ctx context.Context, m Message) (Submitted, error)
	Name() string
}

// Submitted is a gateway's acceptance of a message.
type Submitted struct {
	GatewayID string // the SMSC's message id, which delivery receipts name
	Segments  int    // parts the message was split into
}

// Gateway outcome classes.
var (
	ErrTemporary = errors.New("sms: temporary gateway error")
	ErrPermanent = errors.New("sms: permanent gateway error")
)

// Delivery states recorded from delivery receipts.
const (
	Delivered = "delivered"
	Undeliv   = "failed"
	Expired   = "expired"
	Unknown   = "unknown"
)

// Receipt is a delivery receipt from a gateway.
type Receipt struct {
	GatewayID string
	State     string // Delivered, Undeliv, Expired, Unknown
	At        time.Time
}

// Inbound is a message from a phone (MO), already reassembled.
type Inbound struct {
	From       string // E.164 as the gateway gave it
	To         string // the short code or number it was sent to
	Body       string
	ReceivedAt time.Time
}
