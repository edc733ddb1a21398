package smpp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"runtime"
	"testing"
)

func TestEveryPDUTypeRoundTripsThroughEncodeAndDecode(t *testing.T) {
	sm := SM{ServiceType: "CMT", SourceTON: 5, Source: "PERK", DestTON: 1, DestNPI: 1, Dest: "447700900123",
		ESMClass: 0x40, ProtocolID: 0, PriorityFlag: 1, ScheduleDeliveryTime: "", ValidityPeriod: "000001000000000R",
		RegisteredDelivery: 1, DataCoding: 8, ShortMessage: []byte{5, 0, 3, 1, 2, 1, 0, 'A'}}
	dlr := SM{ESMClass: 4, ShortMessage: []byte("id:1 stat:DELIVRD"), ReceiptedMessageID: "1", MessageState: 2, MessagePayload: []byte("payload")}
	tests := []struct {
		name string
		p    PDU
	}{
		{"bind_transceiver", PDU{Command: BindTransceiver, Seq: 1, SystemID: "perk", Password: "secret", SystemType: "VMA", InterfaceVersion: 0x34, AddrTON: 1, AddrNPI: 1, AddressRange: "^44"}},
		{"bind_transceiver_resp", PDU{Command: BindTransceiverResp, Seq: 1, SystemID: "smsc"}},
		{"bind_transceiver_resp refused", PDU{Command: BindTransceiverResp, Seq: 1, Status: StatusInvPassword}},
		{"unbind", PDU{Command: Unbind, Seq: 2}},
		{"unbind_resp", PDU{Command: UnbindResp, Seq: 2}},
		{"enquire_link", PDU{Command: EnquireLink, Seq: 3}},
		{"enquire_link_resp", PDU{Command: EnquireLinkResp, Seq: 3}},
		{"generic_nack", PDU{Command: GenericNack, Seq: 4, Status: StatusInvCmdID}},
		{"submit_sm", PDU{Command: SubmitSM, Seq: 5, SM: sm}},
		{"submit_sm_resp", PDU{Command: SubmitSMResp, Seq: 5, MessageID: "0000AB0001"}},
		{"deliver_sm with TLVs", PDU{Command: DeliverSM, Seq: 6, SM: dlr}},
		{"deliver_sm_resp", PDU{Command: DeliverSMResp, Seq: 6, Status: StatusXTAppn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadPDU(bytes.NewReader(tt.p.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.p) {
				t.Errorf("round trip\n got %+v\nwant %+v", got, tt.p)
			}
		})
	}
}

func TestBindTransceiverEncodesToTheSpecifiedBytes(t *testing.T) {
	p := PDU{Command: BindTransceiver, Seq: 1, SystemID: "perk", Password: "secret", InterfaceVersion: 0x34}
	want, _ := hex.DecodeString("00000021" + "00000009" + "00000000" + "00000001" +
		"7065726b00" + "73656372657400" + "00" + "34" + "00" + "00" + "00")
	if got := p.Encode(); !bytes.Equal(got, want) {
		t.Errorf("bind_transceiver\n got % X\nwant % X", got, want)
	}
}

func TestDecodeRefusesMalformedPDUs(t *testing.T) {
	// framed prefixes body with a header whose command_length fits it.
	framed := func(cmd, body string) string {
		n := 16 + len(body)/2
		return hex.EncodeToString([]byte{0, 0, byte(n >> 8), byte(n)}) + cmd + "0000000000000007" + body
	}
	emptySM := "00" + "0000" + "00" + "0000" + "00" + "000000" + "00" + "00" + "00000000" // up to sm_length
	tests := []struct {
		name  string
		hex   string
		frame bool // unrecoverable: the stream is out of step
	}{
		{"shorter than a header", "0000000f00000015000000000000", true},
		{"command_length below 16", "0000000f" + "00000015" + "0000000000000007", true},
		{"command_length over 64 KiB", "00010001" + "00000015" + "0000000000000007", true},
		{"command_length disagrees with the bytes", framed("00000015", "") + "00", true},
		{"C-octet string without NUL", framed("80000004", "41424344"), false},
		{"short_message longer than the body", framed("00000005", emptySM+"05"+"41"), false},
		{"TLV overruns the PDU", framed("00000005", emptySM+"00"+"001e0009"+"31"), false},
		{"TLV header cut short", framed("00000005", emptySM+"00"+"001e"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.hex)
			if err != nil {
				t.Fatal(err)
			}
			p, err := DecodePDU(b)
			if err == nil {
				t.Fatalf("decoded %+v, want an error", p)
			}
			if errors.Is(err, ErrFrame) != tt.frame {
				t.Errorf("error %v: ErrFrame = %v, want %v", err, !tt.frame, tt.frame)
			}
			if !tt.frame && p.Seq != 7 {
				t.Errorf("a framed PDU keeps its header for the nack: seq %d, want 7", p.Seq)
			}
		})
	}
}

func TestReadPDURefusesAHugeLengthWithoutAllocatingIt(t *testing.T) {
	huge := []byte{0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0x15}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := ReadPDU(bytes.NewReader(huge)); !errors.Is(err, ErrFrame) {
		t.Fatalf("err %v, want ErrFrame", err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("allocated %d bytes to refuse a 2 GiB length", n)
	}
}
