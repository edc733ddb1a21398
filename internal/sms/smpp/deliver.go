package smpp

import (
	"context"
	"strings"

	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/gsm"
)

// deliver handles one deliver_sm and returns the status to acknowledge it
// with. A receipt is stored (or queued on Receipts) before the acknowledgement, and an
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
	if r, ok := c.receipt(sm); ok {
		return c.storeReceipts(ctx, []sms.Receipt{r})
	}
	return c.deliverMO(ctx, sm)
}

// deliverBatch handles the deliver_sm waiting on a connection and returns
// the status to acknowledge each with. MO are handled one by one, in
// order; the receipts are stored together, in one call of the batch
// handler (one transaction), before any of them is acknowledged.
func (c *Client) deliverBatch(ctx context.Context, ps []PDU) []Status {
	st := make([]Status, len(ps))
	var rs []sms.Receipt
	var at []int // index in ps of each receipt in rs
	for i, p := range ps {
		if r, ok := c.receipt(p.SM); ok {
			rs = append(rs, r)
			at = append(at, i)
			continue
		}
		st[i] = c.deliverMO(ctx, p.SM)
	}
	if len(rs) > 0 {
		s := c.storeReceipts(ctx, rs)
		for _, i := range at {
			st[i] = s
		}
	}
	return st
}

// receipt reads the delivery receipt a deliver_sm carries, if it is one.
func (c *Client) receipt(sm SM) (sms.Receipt, bool) {
	ud, _, _, _ := userData(sm)
	r, ok := receiptOf(sm, decodeText(sm.DataCoding, ud), c.cfg.ReceiptIDs)
	if ok {
		r.At = c.now().UTC()
	}
	return r, ok
}

// storeReceipts hands receipts to the handler (or the Receipts channel)
// and returns the status that acknowledges them all: OK once stored,
// ESME_RX_T_APPN if not, so the SMSC delivers them again.
func (c *Client) storeReceipts(ctx context.Context, rs []sms.Receipt) Status {
	switch {
	case c.onReceipts != nil:
		if err := c.onReceipts(ctx, rs); err != nil {
			c.log.WarnContext(ctx, "smpp receipts not stored; the SMSC will redeliver", "count", len(rs), "err", err)
			return StatusXTAppn
		}
		return StatusOK
	case c.onReceipt != nil:
		for _, r := range rs {
			if err := c.onReceipt(ctx, r); err != nil {
				c.log.WarnContext(ctx, "smpp receipt not stored; the SMSC will redeliver", "id", r.GatewayID, "err", err)
				return StatusXTAppn
			}
		}
		return StatusOK
	}
	for _, r := range rs {
		select {
		case c.receipts <- r:
		case <-ctx.Done():
			return StatusXTAppn
		}
	}
	return StatusOK
}

// userData is a deliver_sm's user data without its header, and the
// concatenation reference, part count and part number the header gives
// (1 of 1 without one).
func userData(sm SM) (ud []byte, ref uint16, total, seq byte) {
	ud = sm.ShortMessage
	if len(ud) == 0 && len(sm.MessagePayload) > 0 {
		ud = sm.MessagePayload
	}
	total, seq = 1, 1
	if sm.ESMClass&esmUDHI != 0 {
		r, t, q, hl, ok := gsm.ParseUDH(ud)
		if hl > 0 {
			ud = ud[hl:]
		}
		if ok {
			ref, total, seq = r, t, q
		}
	}
	return ud, ref, total, seq
}

// deliverMO handles a deliver_sm that is not a receipt: a message from a
// phone, or a part of one.
func (c *Client) deliverMO(ctx context.Context, sm SM) Status {
	ud, ref, total, seq := userData(sm)
	text := decodeText(sm.DataCoding, ud)
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
