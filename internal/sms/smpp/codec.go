package smpp

import (
	"bytes"
	"encoding/binary"
	"errors"
)

var (
	errShort      = errors.New("body too short")
	errNoNUL      = errors.New("C-octet string without NUL")
	errTLVOverrun = errors.New("optional parameter overruns the PDU")
)

// decoder reads a PDU body; the first error sticks and later reads return
// zero values, so field-by-field code needs no error checks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errShort
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) cstring() string {
	if d.err != nil {
		return ""
	}
	i := bytes.IndexByte(d.b, 0)
	if i < 0 {
		d.err = errNoNUL
		return ""
	}
	s := string(d.b[:i])
	d.b = d.b[i+1:]
	return s
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.err = errShort
		return nil
	}
	s := bytes.Clone(d.b[:n]) // the PDU buffer is not kept alive by the message
	d.b = d.b[n:]
	return s
}

func (d *decoder) sm() SM {
	var m SM
	m.ServiceType = d.cstring()
	m.SourceTON, m.SourceNPI, m.Source = d.byte(), d.byte(), d.cstring()
	m.DestTON, m.DestNPI, m.Dest = d.byte(), d.byte(), d.cstring()
	m.ESMClass, m.ProtocolID, m.PriorityFlag = d.byte(), d.byte(), d.byte()
	m.ScheduleDeliveryTime, m.ValidityPeriod = d.cstring(), d.cstring()
	m.RegisteredDelivery, m.ReplaceIfPresent = d.byte(), d.byte()
	m.DataCoding, m.SMDefaultMsgID = d.byte(), d.byte()
	m.ShortMessage = d.bytes(int(d.byte()))
	for d.err == nil && len(d.b) > 0 {
		if len(d.b) < 4 {
			d.err = errTLVOverrun
			break
		}
		tag, n := binary.BigEndian.Uint16(d.b), int(binary.BigEndian.Uint16(d.b[2:]))
		d.b = d.b[4:]
		if n > len(d.b) {
			d.err = errTLVOverrun
			break
		}
		v := d.b[:n]
		d.b = d.b[n:]
		switch tag {
		case tagReceiptedMessageID:
			m.ReceiptedMessageID = string(bytes.TrimRight(v, "\x00"))
		case tagMessageState:
			if n == 1 {
				m.MessageState = v[0]
			}
		case tagMessagePayload:
			m.MessagePayload = bytes.Clone(v)
		}
		// Other parameters are skipped, as section 3.2.4 requires.
	}
	return m
}

// Encode returns the wire form of p, with command_length computed.
func (p PDU) Encode() []byte {
	b := make([]byte, headerLen, 64)
	switch p.Command {
	case BindTransceiver:
		b = cstr(b, p.SystemID)
		b = cstr(b, p.Password)
		b = cstr(b, p.SystemType)
		b = append(b, p.InterfaceVersion, p.AddrTON, p.AddrNPI)
		b = cstr(b, p.AddressRange)
	case BindTransceiverResp:
		b = cstr(b, p.SystemID)
	case SubmitSMResp, DeliverSMResp:
		b = cstr(b, p.MessageID)
	case SubmitSM, DeliverSM:
		b = p.SM.append(b)
	}
	binary.BigEndian.PutUint32(b[0:], uint32(len(b)))
	binary.BigEndian.PutUint32(b[4:], p.Command)
	binary.BigEndian.PutUint32(b[8:], uint32(p.Status))
	binary.BigEndian.PutUint32(b[12:], p.Seq)
	return b
}

func (m SM) append(b []byte) []byte {
	b = cstr(b, m.ServiceType)
	b = append(b, m.SourceTON, m.SourceNPI)
	b = cstr(b, m.Source)
	b = append(b, m.DestTON, m.DestNPI)
	b = cstr(b, m.Dest)
	b = append(b, m.ESMClass, m.ProtocolID, m.PriorityFlag)
	b = cstr(b, m.ScheduleDeliveryTime)
	b = cstr(b, m.ValidityPeriod)
	b = append(b, m.RegisteredDelivery, m.ReplaceIfPresent, m.DataCoding, m.SMDefaultMsgID)
	b = append(b, byte(len(m.ShortMessage)))
	b = append(b, m.ShortMessage...)
	if m.ReceiptedMessageID != "" {
		b = tlv(b, tagReceiptedMessageID, append([]byte(m.ReceiptedMessageID), 0))
	}
	if m.MessageState != 0 {
		b = tlv(b, tagMessageState, []byte{m.MessageState})
	}
	if len(m.MessagePayload) > 0 {
		b = tlv(b, tagMessagePayload, m.MessagePayload)
	}
	return b
}

func cstr(b []byte, s string) []byte { return append(append(b, s...), 0) }

func tlv(b []byte, tag uint16, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, tag)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}
