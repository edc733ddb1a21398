package smpp

import (
	"fmt"
	"testing"

	"github.com/perk-platform/perk/internal/sms"
)

func TestIDMatch_GatewayIDIsTheSubmitSMRespIDInTheModesForm(t *testing.T) {
	tests := []struct {
		name string
		mode IDMatch
		id   string
		want string
	}{
		{"exact keeps the id as written", IDExact, "0000AB0001", "0000AB0001"},
		{"exact trims spaces and NULs", IDExact, "  0000AB0001\x00\x00", "0000AB0001"},
		{"the zero value is exact", "", "0A", "0A"},
		{"exact keeps an all-digit id as it is", IDExact, "10", "10"},
		{"hex folds case and strips leading zeros", IDHex, "0000AB0001", "ab0001"},
		{"hex writes zero as 0", IDHex, "0000", "0"},
		{"hex keeps an id that is no hex number as written", IDHex, "Msg-0042", "Msg-0042"},
		{"hex reads ids beyond 64 bits", IDHex, "00FFFFFFFFFFFFFFFFFFFF", "ffffffffffffffffffff"},
		{"dec strips leading zeros", IDDec, "0000029095", "29095"},
		{"dec keeps a hex id as written", IDDec, "0A1B", "0A1B"},
		{"dec2hex reads submit_sm_resp ids as hex", IDDec2Hex, "0000AB0001", "ab0001"},
		{"an unknown mode is exact", IDMatch("octal"), "0010", "0010"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.mode.SubmitID(tt.id); got != tt.want {
				t.Errorf("IDMatch(%q).SubmitID(%q) = %q, want %q", tt.mode, tt.id, got, tt.want)
			}
		})
	}
}

func TestIDMatch_AReceiptFindsItsMessageAndNoOther(t *testing.T) {
	tests := []struct {
		name      string
		mode      IDMatch
		submitted string // submit_sm_resp message_id
		text, tlv string // the receipt's text id and receipted_message_id TLV
		match     bool
	}{
		{"exact: same id in the text", IDExact, "0000AB0001", "0000AB0001", "", true},
		{"exact: same id in the TLV, padded with a NUL", IDExact, "a1b2c", "", "a1b2c\x00", true},
		{"exact: hex ten is not hex sixteen", IDExact, "a", "10", "", false},
		{"exact: case is part of the id", IDExact, "aB3x", "Ab3X", "", false},
		{"exact: leading zeros are part of the id", IDExact, "01", "1", "", false},
		{"exact: a decimal receipt does not find a hex submit_sm_resp", IDExact, "0A1B2C", "662316", "", false},
		{"hex: case and zero padding differ", IDHex, "0000AB0001", "ab0001", "", true},
		{"hex: in the TLV too", IDHex, "0000AB0001", "", "AB0001", true},
		{"hex: 10 is sixteen in the receipt as well", IDHex, "a", "10", "", false},
		{"dec: zero padding differs", IDDec, "29095", "0000029095", "", true},
		{"dec: 10 is ten", IDDec, "10", "a", "", false},
		{"dec2hex: decimal text id finds the hex submit_sm_resp", IDDec2Hex, "0000AB0001", "11206657", "", true},
		{"dec2hex: text 10 is ten, the hex id a", IDDec2Hex, "a", "10", "", true},
		{"dec2hex: text 10 is not hex 10", IDDec2Hex, "10", "10", "", false},
		{"dec2hex: text 16 is hex 10", IDDec2Hex, "10", "16", "", true},
		{"dec2hex: a text id with hex letters can only be hex", IDDec2Hex, "0A1B2C", "A1B2C", "", true},
		{"dec2hex: the TLV is read like submit_sm_resp", IDDec2Hex, "0000AB0001", "11206657", "00AB0001", true},
		{"dec2hex: a decimal TLV is not converted", IDDec2Hex, "0000AB0001", "", "11206657", false},
		{"dec2hex: ids beyond 64 bits", IDDec2Hex, "FFFFFFFFFFFFFFFFFFFF", "1208925819614629174706175", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := receiptOf(SM{ESMClass: esmReceipt, ReceiptedMessageID: tt.tlv}, "id:"+tt.text+" stat:DELIVRD", tt.mode)
			if !ok {
				t.Fatal("not read as a receipt")
			}
			gid := tt.mode.SubmitID(tt.submitted)
			if (r.GatewayID == gid) != tt.match {
				t.Errorf("mode %q: receipt (text %q, TLV %q) names %q, submit_sm_resp %q gives %q; want match %v",
					tt.mode, tt.text, tt.tlv, r.GatewayID, tt.submitted, gid, tt.match)
			}
		})
	}
}

func TestIDMatch_SequentialIDsKeepDistinctGatewayIDs(t *testing.T) {
	tests := []struct {
		mode   IDMatch
		format string // how the SMSC writes its n-th id
	}{
		{IDExact, "%x"}, {IDExact, "%X"}, {IDExact, "%d"}, {IDExact, "%010d"},
		{IDHex, "%x"}, {IDHex, "%08X"}, {IDDec, "%d"}, {IDDec, "%010d"}, {IDDec2Hex, "%X"},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode)+" "+tt.format, func(t *testing.T) {
			seen := map[string]int{}
			for n := 1; n <= 20000; n++ {
				gid := tt.mode.SubmitID(fmt.Sprintf(tt.format, n))
				if m, ok := seen[gid]; ok {
					t.Fatalf("ids %d and %d both give gateway id %q", m, n, gid)
				}
				seen[gid] = n
			}
		})
	}
}

func TestParseIDMatchKnowsTheModes(t *testing.T) {
	tests := []struct {
		in   string
		want IDMatch
		ok   bool
	}{
		{"", IDExact, true}, {"exact", IDExact, true}, {"dec", IDDec, true}, {"hex", IDHex, true},
		{"dec2hex", IDDec2Hex, true}, {"DEC2HEX", "", false}, {"auto", "", false},
	}
	for _, tt := range tests {
		got, err := ParseIDMatch(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseIDMatch(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
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
		{"DELIVRD is delivered", SM{ESMClass: 4}, "id:10 stat:DELIVRD", sms.Receipt{GatewayID: "10", State: sms.Delivered}, true},
		{"UNDELIV is failed", SM{ESMClass: 4}, "id:10 stat:UNDELIV", sms.Receipt{GatewayID: "10", State: sms.Undeliv}, true},
		{"REJECTD is failed", SM{ESMClass: 4}, "id:10 stat:REJECTD", sms.Receipt{GatewayID: "10", State: sms.Undeliv}, true},
		{"EXPIRED is expired", SM{ESMClass: 4}, "id:10 stat:EXPIRED", sms.Receipt{GatewayID: "10", State: sms.Expired}, true},
		{"ENROUTE is unknown", SM{ESMClass: 4}, "id:10 stat:ENROUTE", sms.Receipt{GatewayID: "10", State: sms.Unknown}, true},
		{"TLV id wins over the text", SM{ESMClass: 4, ReceiptedMessageID: "0B"}, "id:10 stat:DELIVRD", sms.Receipt{GatewayID: "0B", State: sms.Delivered}, true},
		{"message_state used when the text has no stat", SM{ESMClass: 4, ReceiptedMessageID: "0B", MessageState: 5}, "", sms.Receipt{GatewayID: "0B", State: sms.Undeliv}, true},
		{"receipt-like text without the esm_class bit", SM{}, "id:10 sub:001 stat:DELIVRD", sms.Receipt{GatewayID: "10", State: sms.Delivered}, true},
		{"ordinary MO is no receipt", SM{}, "JOIN Ann", sms.Receipt{}, false},
		{"MO that merely mentions stat: is no receipt", SM{}, "my id: is stat: ok", sms.Receipt{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := receiptOf(tt.sm, tt.text, IDExact)
			if ok != tt.ok || got != tt.want {
				t.Errorf("receiptOf = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
