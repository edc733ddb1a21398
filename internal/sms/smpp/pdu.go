package smpp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Command ids (SMPP 3.4 section 5.1.2.1). A response is its request's id
// with the top bit set.
const (
	GenericNack         uint32 = 0x80000000
	BindTransceiver     uint32 = 0x00000009
	BindTransceiverResp uint32 = 0x80000009
	Unbind              uint32 = 0x00000006
	UnbindResp          uint32 = 0x80000006
	EnquireLink         uint32 = 0x00000015
	EnquireLinkResp     uint32 = 0x80000015
	SubmitSM            uint32 = 0x00000004
	SubmitSMResp        uint32 = 0x80000004
	DeliverSM           uint32 = 0x00000005
	DeliverSMResp       uint32 = 0x80000005
)

// Optional parameter tags read from deliver_sm (section 5.3.2).
const (
	tagReceiptedMessageID uint16 = 0x001E
	tagMessageState       uint16 = 0x0427
	tagMessagePayload     uint16 = 0x0424
)

const (
	headerLen = 16
	// MaxPDULen bounds command_length. The largest legitimate PDU is a
	// submit_sm with a 64 KiB message_payload; refusing anything longer
	// stops a peer (or a corrupt stream) from making us allocate gigabytes.
	MaxPDULen = 64 << 10
)

// ErrFrame means the byte stream is not SMPP (command_length out of range):
// the connection cannot be resynchronised and must be closed.
var ErrFrame = errors.New("smpp: bad command_length")

// PDU is one decoded protocol data unit. The header fields are always set;
// which body fields mean anything depends on Command:
//   - bind_transceiver: SystemID, Password, SystemType, InterfaceVersion,
//     AddrTON, AddrNPI, AddressRange;
//   - bind_transceiver_resp: SystemID;
//   - submit_sm, deliver_sm: SM;
//   - submit_sm_resp, deliver_sm_resp: MessageID;
//   - unbind(_resp), enquire_link(_resp), generic_nack: header only.
//
// The body of other commands is skipped, so an unknown request still
// decodes and can be answered with generic_nack.
type PDU struct {
	Command uint32
	Status  Status
	Seq     uint32

	SystemID, Password, SystemType     string
	InterfaceVersion, AddrTON, AddrNPI byte
	AddressRange                       string

	SM        SM
	MessageID string
}

// SM is the body shared by submit_sm and deliver_sm (sections 4.4.1, 4.6.1).
type SM struct {
	ServiceType          string
	SourceTON, SourceNPI byte
	Source               string
	DestTON, DestNPI     byte
	Dest                 string
	ESMClass             byte
	ProtocolID           byte
	PriorityFlag         byte
	ScheduleDeliveryTime string
	ValidityPeriod       string
	RegisteredDelivery   byte
	ReplaceIfPresent     byte
	DataCoding           byte
	SMDefaultMsgID       byte
	ShortMessage         []byte // at most 254 octets (section 4.4.1); longer text goes in MessagePayload

	// Optional parameters; zero means absent. They are written too when
	// set, which the test SMSC uses to send receipts.
	ReceiptedMessageID string
	MessageState       byte
	MessagePayload     []byte
}

// ReadPDU reads one PDU from r. A framing error (ErrFrame, or an I/O
// error) ends the stream; a body that does not decode returns the PDU with
// its header filled in and an error, so the caller can nack it and go on.
func ReadPDU(r io.Reader) (PDU, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return PDU{}, err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n < headerLen || n > MaxPDULen {
		return PDU{}, fmt.Errorf("%w: %d", ErrFrame, n)
	}
	b := make([]byte, n)
	copy(b, h[:])
	if _, err := io.ReadFull(r, b[4:]); err != nil {
		return PDU{}, err
	}
	return DecodePDU(b)
}

// DecodePDU decodes one whole PDU (command_length included). It never
// panics and allocates at most MaxPDULen for the body.
func DecodePDU(b []byte) (PDU, error) {
	if len(b) < headerLen {
		return PDU{}, fmt.Errorf("%w: %d bytes", ErrFrame, len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if n < headerLen || n > MaxPDULen || int(n) != len(b) {
		return PDU{}, fmt.Errorf("%w: %d for %d bytes", ErrFrame, n, len(b))
	}
	p := PDU{
		Command: binary.BigEndian.Uint32(b[4:]),
		Status:  Status(binary.BigEndian.Uint32(b[8:])),
		Seq:     binary.BigEndian.Uint32(b[12:]),
	}
	d := decoder{b: b[headerLen:]}
	switch p.Command {
	case BindTransceiver:
		p.SystemID, p.Password, p.SystemType = d.cstring(), d.cstring(), d.cstring()
		p.InterfaceVersion, p.AddrTON, p.AddrNPI = d.byte(), d.byte(), d.byte()
		p.AddressRange = d.cstring()
	case BindTransceiverResp:
		if len(d.b) > 0 { // an error response may have no body
			p.SystemID = d.cstring()
		}
	case SubmitSMResp, DeliverSMResp:
		if len(d.b) > 0 {
			p.MessageID = d.cstring()
		}
	case SubmitSM, DeliverSM:
		p.SM = d.sm()
	}
	if d.err != nil {
		return p, fmt.Errorf("smpp: decode %s seq %d: %w", CommandName(p.Command), p.Seq, d.err)
	}
	return p, nil
}

// CommandName names a command id for logs and errors.
func CommandName(id uint32) string {
	switch id {
	case GenericNack:
		return "generic_nack"
	case BindTransceiver:
		return "bind_transceiver"
	case BindTransceiverResp:
		return "bind_transceiver_resp"
	case Unbind:
		return "unbind"
	case UnbindResp:
		return "unbind_resp"
	case EnquireLink:
		return "enquire_link"
	case EnquireLinkResp:
		return "enquire_link_resp"
	case SubmitSM:
		return "submit_sm"
	case SubmitSMResp:
		return "submit_sm_resp"
	case DeliverSM:
		return "deliver_sm"
	case DeliverSMResp:
		return "deliver_sm_resp"
	}
	return fmt.Sprintf("command 0x%08X", id)
}
