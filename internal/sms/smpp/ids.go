package smpp

import (
	"fmt"
	"math/big"
	"strings"
)

// IDMatch says how the message ids an SMSC writes in submit_sm_resp and in
// its delivery receipts are put into the one form that Send returns as
// GatewayID and that receipts name, so the two meet in sms_outbox. The zero
// value means IDExact. Set it with receipt_ids= on the SMPP URL.
//
// SMPP 3.4 makes message_id an opaque string, so by default ids are matched
// as the SMSC wrote them. Any rewriting must never give two ids from one
// SMSC the same form, or two messages share a gateway id and one of them
// gets both receipts: reading every all-digit id as decimal (this package's
// rule before) merged the hex ids "10" (sixteen) and "a" (ten), 3,612 pairs in
// 20,000 sequential ids. Even folding case and stripping leading zeros are
// only safe when the ids are known to be numbers ("aB" and "Ab" may be two
// base-62 ids, "01" and "1" two opaque ones), so they belong to the modes an
// operator chooses for an SMSC known to write its ids differently in
// different places.
//
// In every mode the receipted_message_id TLV, which SMPP 3.4 defines as the
// submit_sm_resp's message_id, is read like submit_sm_resp; the modes differ
// in how they read the "id:" of a receipt's text (SMPP 3.4 appendix B),
// which some SMSCs write in decimal whatever their ids are. A submit_sm_resp
// id that is not a number in the base a mode expects is kept as written; a
// receipt text id that is not is read like a submit_sm_resp id (under
// IDDec2Hex, "A1B2C" is hex).
type IDMatch string

const (
	// IDExact compares ids as written, only trimming spaces, tabs, CR, LF
	// and NULs from both ends. The default.
	IDExact IDMatch = "exact"
	// IDDec reads every id as a decimal number, so zero padding does not
	// matter ("0000029095" matches "29095"; the form is "29095").
	IDDec IDMatch = "dec"
	// IDHex reads every id as a hex number, so neither case nor zero padding
	// matters ("0000AB0001" matches "ab0001"; the form is "ab0001").
	IDHex IDMatch = "hex"
	// IDDec2Hex is for SMSCs that give hex ids in submit_sm_resp (and the
	// TLV) but name them in decimal in the receipt text: "id:11206657"
	// matches "0000AB0001". Both are read as numbers, the form is lower-case
	// hex ("ab0001").
	IDDec2Hex IDMatch = "dec2hex"
)

// idMatches lists the modes in the order the documentation gives them.
var idMatches = []IDMatch{IDExact, IDDec, IDHex, IDDec2Hex}

// ParseIDMatch reads a receipt_ids= value; empty means IDExact.
func ParseIDMatch(s string) (IDMatch, error) {
	if s == "" {
		return IDExact, nil
	}
	for _, m := range idMatches {
		if IDMatch(s) == m {
			return m, nil
		}
	}
	return "", fmt.Errorf("receipt_ids=%q: want one of exact, dec, hex, dec2hex", s)
}

// bases gives the number base a mode reads submit_sm_resp (and TLV) ids in,
// and the base it reads receipt text ids in; 0 is "as written". An unknown
// mode (ParseURL refuses them) reads as IDExact.
func (m IDMatch) bases() (submit, text int) {
	switch m {
	case IDDec:
		return 10, 10
	case IDHex:
		return 16, 16
	case IDDec2Hex:
		return 16, 10
	}
	return 0, 0
}

// SubmitID is the GatewayID for a submit_sm_resp's message_id, or for a
// receipt's receipted_message_id TLV.
func (m IDMatch) SubmitID(id string) string {
	base, _ := m.bases()
	id = trimID(id)
	if base == 0 || !isNumeral(id, base) {
		// As written: it holds a character no number in base has, so it
		// never equals an id rewritten below.
		return id
	}
	id = strings.TrimLeft(strings.ToLower(id), "0")
	if id == "" {
		return "0"
	}
	return id
}

// ReceiptTextID is the GatewayID for the id: in a receipt's text. Under
// IDDec2Hex a text id that is not a decimal number ("A1B2C") can only be
// hex, so it is read like a submit_sm_resp id.
func (m IDMatch) ReceiptTextID(id string) string {
	submit, text := m.bases()
	id = trimID(id)
	if text == submit || !isNumeral(id, text) {
		return m.SubmitID(id)
	}
	n, _ := new(big.Int).SetString(id, text) // isNumeral checked every digit
	return n.Text(submit)
}

func trimID(id string) string { return strings.Trim(id, " \t\r\n\x00") }

// isNumeral reports whether s is a non-empty run of digits in base (10 or
// 16, either case).
func isNumeral(s string, base int) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
		case base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
		default:
			return false
		}
	}
	return true
}
