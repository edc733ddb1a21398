package smpp

import (
	"context"
	"strings"

	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/gsm"
)

// deliver handles one deliver_sm and returns the status to acknowledge it
// with. A receipt is queued on Receipts before the acknowledgement, and an
// MO is acknowledged only once onInbound has taken it, so nothing the SMSC
// considers delivered is lost in a crash; ESME_RX_T_APPN asks the SMSC to
// deliver it again later.
//
// Parts of a concatenated MO are held in memory until the last arrives and
// each is acknowledged at once: holding back the acknowledgements would
// stall the SMSC's window for as long as a handset takes to send the rest.
// The price is that a restart loses the parts held so far, and that when
// onInbound fails only the last part is redelivered, which then waits for
// parts that will not come again (they expire after an hour). Multi-part
// keywords are rare; a single-part "JOIN" is the case that must not be lost.
func (c *Client) deliver(ctx context.Context, sm SM) Status {
	ud := sm.ShortMessage
	if len(ud) == 0 && len(sm.MessagePayload) > 0 {
		ud = sm.MessagePayload
	}
	var ref uint16
	total, seq := byte(1), byte(1)
	if sm.ESMClass&esmUDHI != 0 {
		r, t, q, hl, ok := gsm.ParseUDH(ud)
		if hl > 0 {
			ud = ud[hl:]
		}
		if ok {
			ref, total, seq = r, t, q
		}
	}
	text := decodeText(sm.DataCoding, ud)
	if r, ok := receiptOf(sm, text, c.cfg.ReceiptIDs); ok {
		r.At = c.now().UTC()
		if c.onReceipt != nil {
			if err := c.onReceipt(ctx, r); err != nil {
				c.log.WarnContext(ctx, "smpp receipt not stored; the SMSC will redeliver", "id", r.GatewayID, "err", err)
				return StatusXTAppn
			}
			return StatusOK
		}
		select {
		case c.receipts <- r:
			return StatusOK
		case <-ctx.Done():
			return StatusXTAppn
		}
	}
	from := sm.Source
	if sm.SourceTON == 1 && from != "" && !strings.HasPrefix(from, "+") {
		from = "+" + from // international: the E.164 form the router parses
	}
	body, complete := c.reasm.Add(from, ref, total, seq, text)
	if !complete {
		return StatusOK
	}
	in := sms.Inbound{From: from, To: sm.Dest, Body: body, ReceivedAt: c.now().UTC()}
	if c.onInbound == nil {
		c.log.WarnContext(ctx, "smpp MO dropped: no handler", "from", phone.Mask(from))
		return StatusOK
	}
	if err := c.onInbound(ctx, in); err != nil {
		c.log.WarnContext(ctx, "smpp MO not taken, SMSC will redeliver", "from", phone.Mask(from), "err", err)
		return StatusXTAppn
	}
	return StatusOK
}

// decodeText decodes user data by data_coding. GSM 7-bit arrives unpacked
// (one septet a byte) over SMPP; anything that does not decode, and the
// 8-bit codings, are kept byte for byte as Latin-1 rather than dropped.
func decodeText(dc byte, ud []byte) string {
	switch dc {
	case codingUCS2:
		return gsm.DecodeUCS2(ud)
	case codingDefault, 0x01:
		// 0x01 (IA5) is read as septets too: SMSCs marking MO as IA5
		// mostly pass their default alphabet, and letters and digits
		// coincide in both.
		if s, err := gsm.DecodeGSM7(ud); err == nil {
			return s
		}
	}
	return latin1(ud)
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
