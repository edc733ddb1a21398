package smpp

import (
	"strings"

	"github.com/perk-platform/perk/internal/sms"
)

// DLR is the text form of a delivery receipt (SMPP 3.4 appendix B):
//
//	id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
type DLR struct {
	ID, Stat, Err string
}

// looksLikeDLR reports whether a deliver_sm text is a receipt, for SMSCs
// that send receipts without setting esm_class bit 0x04.
func looksLikeDLR(text string) bool {
	l := strings.ToLower(strings.TrimSpace(text))
	return strings.HasPrefix(l, "id:") && strings.Contains(l, " stat:")
}

// ParseDLR reads id, stat and err from a receipt text. Keys are matched
// case-insensitively at word starts; a value runs to the next space. Fields
// missing from the text are empty.
func ParseDLR(text string) DLR {
	return DLR{ID: dlrField(text, "id:"), Stat: strings.ToUpper(dlrField(text, "stat:")), Err: dlrField(text, "err:")}
}

func dlrField(text, key string) string {
	l := strings.ToLower(text)
	for from := 0; ; {
		i := strings.Index(l[from:], key)
		if i < 0 {
			return ""
		}
		i += from
		if i == 0 || l[i-1] == ' ' {
			v := text[i+len(key):]
			if j := strings.IndexByte(v, ' '); j >= 0 {
				v = v[:j]
			}
			return v
		}
		from = i + len(key) // "sub:" contains no "id:", but "xid:" would
	}
}

// stateOfStat maps a receipt's stat (or the message_state TLV's name) to a
// delivery state. Intermediate states (ENROUTE, ACCEPTD) and DELETED say
// nothing final, so they are Unknown.
func stateOfStat(stat string) string {
	switch strings.ToUpper(stat) {
	case "DELIVRD", "DELIVERED":
		return sms.Delivered
	case "UNDELIV", "UNDELIVERABLE", "REJECTD", "REJECTED":
		return sms.Undeliv
	case "EXPIRED":
		return sms.Expired
	}
	return sms.Unknown
}

// messageStates names the message_state TLV values (section 5.2.28).
var messageStates = [...]string{1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD"}

// receiptOf reads a receipt from a deliver_sm, if it is one: esm_class
// says so (bit 0x04, SMSC delivery receipt) or its text looks like one.
// The receipted_message_id TLV, when present, is preferred to the text's
// id (it is the structured form, the submit_sm_resp's message_id); ids
// take the GatewayID form by ids (see IDMatch). The text's stat is
// preferred to the message_state TLV, falling back to it when the text has
// none.
func receiptOf(sm SM, text string, ids IDMatch) (sms.Receipt, bool) {
	if sm.ESMClass&esmReceipt == 0 && !looksLikeDLR(text) {
		return sms.Receipt{}, false
	}
	d := ParseDLR(text)
	id := ids.ReceiptTextID(d.ID)
	if sm.ReceiptedMessageID != "" {
		id = ids.SubmitID(sm.ReceiptedMessageID)
	}
	stat := d.Stat
	if stat == "" && int(sm.MessageState) < len(messageStates) {
		stat = messageStates[sm.MessageState]
	}
	return sms.Receipt{GatewayID: id, State: stateOfStat(stat)}, true
}
