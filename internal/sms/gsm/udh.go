package gsm

// Information element identifiers for concatenated short messages
// (TS 23.040 section 9.2.3.24.1 and 9.2.3.24.8).
const (
	ieiConcat8  = 0x00 // 8-bit reference: ref, total, seq
	ieiConcat16 = 0x08 // 16-bit reference: ref hi, ref lo, total, seq
)

// ParseUDH extracts the concatenation info from user data that starts with a
// UDH (when esm_class has UDHI set): returns ref (as uint16), total, seq, the
// header length in bytes, ok.
//
// headerLen counts the length octet itself (UDHL+1), so ud[headerLen:] is the
// message text. It is set whenever the header is well formed, even when ok is
// false because no usable concatenation element is present (a port-addressed
// single message, say), so the caller can still strip the header; it is 0
// for a malformed header. Other elements are skipped. As TS 23.040 requires,
// a concatenation element with total 0 or seq outside 1..total is ignored,
// and if the element repeats the last one wins.
func ParseUDH(ud []byte) (ref uint16, total, seq byte, headerLen int, ok bool) {
	if len(ud) == 0 || int(ud[0])+1 > len(ud) {
		return 0, 0, 0, 0, false
	}
	hdr := ud[1 : 1+int(ud[0])]
	for len(hdr) > 0 {
		if len(hdr) < 2 || int(hdr[1])+2 > len(hdr) {
			return 0, 0, 0, 0, false // element overruns the header
		}
		iei, data := hdr[0], hdr[2:2+int(hdr[1])]
		hdr = hdr[2+len(data):]
		var r uint16
		var t, s byte
		switch {
		case iei == ieiConcat8 && len(data) == 3:
			r, t, s = uint16(data[0]), data[1], data[2]
		case iei == ieiConcat16 && len(data) == 4:
			r, t, s = uint16(data[0])<<8|uint16(data[1]), data[2], data[3]
		default:
			continue
		}
		if t == 0 || s == 0 || s > t {
			continue
		}
		ref, total, seq, ok = r, t, s, true
	}
	return ref, total, seq, 1 + int(ud[0]), ok
}
