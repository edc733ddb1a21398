package smpp

import (
	"bytes"
	"math/big"
	"testing"
)

// FuzzDecodePDU checks the decoder never panics, refuses lengths over
// MaxPDULen, and that whatever decodes cleanly re-encodes to a PDU that
// decodes the same (for the commands the codec knows).
func FuzzDecodePDU(f *testing.F) {
	for _, p := range []PDU{
		{Command: BindTransceiver, Seq: 1, SystemID: "perk", Password: "secret", InterfaceVersion: 0x34},
		{Command: SubmitSMResp, Seq: 2, MessageID: "0A1B"},
		{Command: DeliverSM, Seq: 3, SM: SM{ESMClass: 4, ShortMessage: []byte("id:1 stat:DELIVRD"), ReceiptedMessageID: "1", MessageState: 2}},
		{Command: SubmitSM, Seq: 4, SM: SM{ESMClass: 0x40, ShortMessage: []byte{5, 0, 3, 1, 2, 1, 'a'}}},
		{Command: EnquireLink, Seq: 5},
	} {
		f.Add(p.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePDU(b)
		if len(b) > MaxPDULen && err == nil {
			t.Fatalf("accepted a %d-byte PDU", len(b))
		}
		if err != nil {
			return
		}
		if _, err := ReadPDU(bytes.NewReader(b)); err != nil {
			t.Fatalf("DecodePDU accepted what ReadPDU refuses: %v", err)
		}
		switch p.Command {
		case BindTransceiver, BindTransceiverResp, SubmitSM, DeliverSM, SubmitSMResp, DeliverSMResp:
			q, err := DecodePDU(p.Encode())
			if err != nil || q.Command != p.Command || q.Seq != p.Seq || q.MessageID != p.MessageID ||
				q.SystemID != p.SystemID || !bytes.Equal(q.SM.ShortMessage, p.SM.ShortMessage) {
				t.Fatalf("re-encoding %+v gave %+v, %v", p, q, err)
			}
		}
	})
}

// FuzzIDMatch checks that no mode gives two different ids from one SMSC the
// same gateway id: equal forms mean equal ids as written (after trimming),
// or, in a numeric mode, the same number in that mode's base.
func FuzzIDMatch(f *testing.F) {
	for _, p := range [][2]string{{"10", "a"}, {"0A", "a"}, {"01", "1"}, {"aB", "Ab"}, {"", "0"}, {" 7\x00", "7"}, {"0x10", "16"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, m := range idMatches {
			ga, gb := m.SubmitID(a), m.SubmitID(b)
			if ga != gb {
				continue
			}
			ta, tb := trimID(a), trimID(b)
			if ta == tb {
				continue
			}
			base, _ := m.bases()
			na, oka := new(big.Int).SetString(ta, base)
			nb, okb := new(big.Int).SetString(tb, base)
			if base == 0 || !isNumeral(ta, base) || !isNumeral(tb, base) || !oka || !okb || na.Cmp(nb) != 0 {
				t.Fatalf("mode %s: %q and %q both give gateway id %q", m, a, b, ga)
			}
		}
	})
}
