package smpp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/gsm"
)

// Data codings (section 5.2.19) and esm_class bits (5.2.12).
const (
	codingDefault = 0x00 // SMSC default alphabet: GSM 03.38, one septet a byte
	codingUCS2    = 0x08
	esmUDHI       = 0x40 // short_message starts with a user data header
	esmReceipt    = 0x04 // deliver_sm is an SMSC delivery receipt
)

// Send submits m, split into as many parts as it needs, each part its own
// submit_sm waited for in turn. Only the last part asks for a delivery
// receipt, so the receipt names the last part's message_id, which is the
// GatewayID returned (as Config.ReceiptIDs.SubmitID writes it: by default
// as the SMSC wrote it).
//
// If an earlier part was accepted and a later one fails, the error is
// returned and a retry sends every part again: the handset may show a
// duplicate part, which is better than a message missing its end.
func (c *Client) Send(ctx context.Context, m sms.Message) (sms.Submitted, error) {
	to := strings.TrimPrefix(m.To, "+")
	coding, parts := gsm.Split(m.Body, byte(c.ref.Add(1)))
	if len(parts) == 0 {
		return sms.Submitted{}, fmt.Errorf("smpp: message %s is too long for %d parts: %w", m.ID, gsm.MaxParts, sms.ErrPermanent)
	}
	sm := SM{DestTON: 1, DestNPI: 1, Dest: to, DataCoding: codingDefault}
	sm.SourceTON, sm.SourceNPI, sm.Source = sourceAddr(c.cfg.Source)
	if coding == gsm.UCS2 {
		sm.DataCoding = codingUCS2
	}
	var id string
	for k, p := range parts {
		sm.ESMClass, sm.RegisteredDelivery = 0, 0
		sm.ShortMessage = p.Data
		if p.UDH != nil {
			sm.ESMClass = esmUDHI
			sm.ShortMessage = append(append(make([]byte, 0, len(p.UDH)+len(p.Data)), p.UDH...), p.Data...)
		}
		if k == len(parts)-1 {
			sm.RegisteredDelivery = 1 // SMSC delivery receipt on success or failure
		}
		r, err := c.submit(ctx, sm)
		if err != nil {
			return sms.Submitted{}, fmt.Errorf("smpp: message %s to %s part %d/%d: %w", m.ID, phone.Mask(m.To), k+1, len(parts), err)
		}
		id = r.MessageID
	}
	gid := c.cfg.ReceiptIDs.SubmitID(id)
	c.log.DebugContext(ctx, "smpp submitted", "message", m.ID, "to", phone.Mask(m.To), "gateway_id", gid, "parts", len(parts))
	return sms.Submitted{GatewayID: gid, Segments: len(parts)}, nil
}

// submit sends one submit_sm once a TPS token and a window slot are free,
// waiting for both as long as ctx allows: a full window never drops.
func (c *Client) submit(ctx context.Context, sm SM) (PDU, error) {
	if err := c.tps.Wait(ctx); err != nil {
		return PDU{}, fmt.Errorf("smpp: waiting for a TPS token: %w", err)
	}
	select {
	case c.window <- struct{}{}:
	case <-ctx.Done():
		return PDU{}, fmt.Errorf("smpp: waiting for a window slot: %w", ctx.Err())
	}
	defer func() { <-c.window }()
	s, err := c.session(ctx)
	if err != nil {
		return PDU{}, err
	}
	start := time.Now()
	r, err := s.call(ctx, PDU{Command: SubmitSM, Seq: c.nextSeq(), SM: sm}, c.cfg.ResponseTimeout)
	var refused *StatusError
	if err == nil || errors.As(err, &refused) {
		c.submitTime.Observe(time.Since(start).Seconds()) // the SMSC answered
	}
	return r, err
}

// session returns the bound session. While the first bind (or a reconnect
// after a drop) is under way it waits up to ResponseTimeout for it; once an
// attempt has failed it fails fast, so a sender facing a dead SMSC moves
// its messages to retry rather than block on each.
func (c *Client) session(ctx context.Context) (*session, error) {
	t := time.NewTimer(c.cfg.ResponseTimeout)
	defer t.Stop()
	for {
		c.mu.Lock()
		s, st, changed := c.sess, c.state, c.changed
		c.mu.Unlock()
		switch {
		case st == bound && s != nil:
			return s, nil
		case st == down:
			return nil, fmt.Errorf("smpp: not bound: %w", sms.ErrTemporary)
		}
		select {
		case <-changed:
		case <-t.C:
			return nil, fmt.Errorf("smpp: not bound after %v: %w", c.cfg.ResponseTimeout, sms.ErrTemporary)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// sourceAddr gives the TON, NPI and address for the sender id: TON 5
// (alphanumeric) if it has letters, else an international number (TON 1,
// NPI 1 E.164). Empty leaves it to the SMSC's default.
func sourceAddr(src string) (ton, npi byte, addr string) {
	if src == "" {
		return 0, 0, ""
	}
	if strings.IndexFunc(src, unicode.IsLetter) >= 0 {
		return 5, 0, src
	}
	return 1, 1, strings.TrimPrefix(src, "+")
}
