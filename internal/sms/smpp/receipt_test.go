package smpp

import (
	"testing"

	"github.com/perk-platform/perk/internal/sms"
)

func TestNormalizeIDMakesTheFormsOfOneIDMatch(t *testing.T) {
	tests := []struct{ name, a, b string }{
		{"decimal receipt id and hex submit_sm_resp id", "662316", "0A1B2C"},
		{"upper and lower-case hex", "0A1B2C", "a1b2c"},
		{"leading zeros", "000a1b2c", "a1b2c"},
		{"padding spaces and trailing NULs", "  a1b2c\x00\x00", "A1B2C"},
		{"decimal with leading zeros", "0000000255", "FF"},
		{"same decimal both sides", "12345", "12345"},
		{"non-numeric ids only fold case", "Msg-0042", "msg-0042"},
		{"zero", "0000", "0"},
		{"decimal beyond uint64 is kept as text", "123456789012345678901234567890", "0123456789012345678901234567890"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := NormalizeID(tt.a), NormalizeID(tt.b); a != b {
				t.Errorf("NormalizeID(%q) = %q, NormalizeID(%q) = %q; want equal", tt.a, a, tt.b, b)
			}
		})
	}
}

func TestNormalizeIDKeepsDifferentIDsApart(t *testing.T) {
	for _, p := range [][2]string{{"a1b2c", "a1b2d"}, {"10", "0x10"}, {"", "0"}} {
		if NormalizeID(p[0]) == NormalizeID(p[1]) {
			t.Errorf("NormalizeID(%q) == NormalizeID(%q) = %q", p[0], p[1], NormalizeID(p[0]))
		}
	}
}

func TestReceiptTextIsParsedIntoIDStatAndErr(t *testing.T) {
	tests := []struct {
		text string
		want DLR
	}{
		{"id:0A1B sub:001 dlvrd:001 submit date:2611231000 done date:2611231000 stat:DELIVRD err:000 text:hello", DLR{"0A1B", "DELIVRD", "000"}},
		{"ID:42 SUB:001 DLVRD:000 STAT:undeliv ERR:001 TEXT:", DLR{"42", "UNDELIV", "001"}},
		{"id:7 stat:EXPIRED", DLR{"7", "EXPIRED", ""}},
		{"msgid:9 id:8 stat:REJECTD err:", DLR{"8", "REJECTD", ""}},
		{"no receipt here", DLR{}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := ParseDLR(tt.text); got != tt.want {
				t.Errorf("ParseDLR = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReceiptStateFollowsStatThenMessageState(t *testing.T) {
	tests := []struct {
		name string
		sm   SM
		text string
		want sms.Receipt
		ok   bool
	}{
		{"DELIVRD is delivered", SM{ESMClass: 4}, "id:10 stat:DELIVRD", sms.Receipt{GatewayID: "a", State: sms.Delivered}, true},
		{"UNDELIV is failed", SM{ESMClass: 4}, "id:10 stat:UNDELIV", sms.Receipt{GatewayID: "a", State: sms.Undeliv}, true},
		{"REJECTD is failed", SM{ESMClass: 4}, "id:10 stat:REJECTD", sms.Receipt{GatewayID: "a", State: sms.Undeliv}, true},
		{"EXPIRED is expired", SM{ESMClass: 4}, "id:10 stat:EXPIRED", sms.Receipt{GatewayID: "a", State: sms.Expired}, true},
		{"ENROUTE is unknown", SM{ESMClass: 4}, "id:10 stat:ENROUTE", sms.Receipt{GatewayID: "a", State: sms.Unknown}, true},
		{"TLV id wins over the text", SM{ESMClass: 4, ReceiptedMessageID: "0B"}, "id:10 stat:DELIVRD", sms.Receipt{GatewayID: "b", State: sms.Delivered}, true},
		{"message_state used when the text has no stat", SM{ESMClass: 4, ReceiptedMessageID: "0B", MessageState: 5}, "", sms.Receipt{GatewayID: "b", State: sms.Undeliv}, true},
		{"receipt-like text without the esm_class bit", SM{}, "id:10 sub:001 stat:DELIVRD", sms.Receipt{GatewayID: "a", State: sms.Delivered}, true},
		{"ordinary MO is no receipt", SM{}, "JOIN Ann", sms.Receipt{}, false},
		{"MO that merely mentions stat: is no receipt", SM{}, "my id: is stat: ok", sms.Receipt{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := receiptOf(tt.sm, tt.text)
			if ok != tt.ok || got != tt.want {
				t.Errorf("receiptOf = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
