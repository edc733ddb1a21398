package smpp

import (
	"bytes"
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
