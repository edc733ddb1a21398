package gsm

// Pack packs septets into octets as TS 23.038 section 6.1.2.1.1 describes:
// septet k occupies bits fillBits+7k .. fillBits+7k+6 of the stream, least
// significant bit first, so an octet holds the rest of one septet in its low
// bits and the start (low bits) of the next septet in its high bits. The
// fillBits (0..6) leading zero bits are what a sender needs after a user
// data header so that the first septet starts on a septet boundary (TS
// 23.040 section 9.2.3.24). Only the low 7 bits of each septet are used, and
// no septets pack to no octets. Pack panics if fillBits is outside 0..6, a
// programming error since the caller computes it from a header length.
func Pack(septets []byte, fillBits int) []byte {
	checkFill(fillBits)
	if len(septets) == 0 {
		return []byte{} // fill bits only exist to align a septet that follows
	}
	bits := fillBits + 7*len(septets)
	out := make([]byte, (bits+7)/8)
	pos := fillBits
	for _, s := range septets {
		s &= 0x7F
		i, shift := pos/8, uint(pos%8)
		out[i] |= s << shift
		if shift > 1 { // the septet spills into the next octet
			out[i+1] |= s >> (8 - shift)
		}
		pos += 7
	}
	return out
}

// Unpack reverses Pack: it extracts septetCount septets that start after
// fillBits leading bits. The count must come from the message (the TP-UDL or
// sm_length), because 7 spare bits at the end of the last octet are
// indistinguishable from a final '@' (septet 0). If octets is too short
// for septetCount, Unpack returns only the septets that are wholly present;
// a negative count yields none. Like Pack it panics if fillBits is outside
// 0..6.
func Unpack(octets []byte, septetCount, fillBits int) []byte {
	checkFill(fillBits)
	if avail := (8*len(octets) - fillBits) / 7; septetCount > avail {
		septetCount = avail
	}
	if septetCount <= 0 {
		return []byte{}
	}
	out := make([]byte, septetCount)
	pos := fillBits
	for k := range out {
		i, shift := pos/8, uint(pos%8)
		v := octets[i] >> shift
		if shift > 1 {
			v |= octets[i+1] << (8 - shift)
		}
		out[k] = v & 0x7F
		pos += 7
	}
	return out
}

func checkFill(fillBits int) {
	if fillBits < 0 || fillBits > 6 {
		panic("gsm: fillBits must be 0..6")
	}
}
