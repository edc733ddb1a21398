// Package loadgen generates load and test data for Perk's benchmarks: large
// member CSV files for import runs (GenerateMembersCSV) and a closed-loop HTTP
// load generator (Run) for the member API and for the till's checkout, with
// generated baskets from a fixed catalogue (SKU).
//
// Both need many phone numbers that libphonenumber accepts as UK mobiles and
// that never repeat, so both draw them from one deterministic numbering
// (appendMobile) instead of random digits, which would collide and would land
// in ranges the phone package rejects.
package loadgen

// phoneSpace is how many distinct numbers each use of the numbering holds:
// ten blocks of 10^7 numbers each.
const phoneSpace = 100_000_000

// phoneMul is odd and not a multiple of 5, so it is coprime to 10^8 and
// n -> (n*phoneMul + phoneAdd) mod 10^8 is a bijection on [0, 10^8): distinct
// indexes give distinct numbers, while neighbouring rows still get numbers
// that look unrelated (as in a real CRM export, not 07400000000, ...001, ...).
const (
	phoneMul = 2_654_435_761
	phoneAdd = 31_415_926
)

// phoneUse selects a disjoint set of number blocks, so members enrolled by a
// load run never collide with members imported from a generated file.
type phoneUse int

const (
	phonesForFiles phoneUse = iota // GenerateMembersCSV
	phonesForAPI                   // Run's enrolments
)

// mobileBlocks are the two digits after "07" for each use. All lie in the
// 074, 075, 078 and 079 ranges, in blocks that libphonenumber (nyaruka v1.8.1,
// checked through internal/phone.Parse) accepts as mobile throughout. Avoided
// on purpose: 0770 (07700 900xxx, the drama range, and 07700 2/4/5/6/9 are
// invalid) and 0791 (07911 3-6 and 07911 9 are invalid).
var mobileBlocks = [2][10]string{
	phonesForFiles: {"40", "41", "42", "43", "44", "51", "53", "80", "81", "90"},
	phonesForAPI:   {"46", "47", "48", "49", "54", "55", "84", "85", "94", "95"},
}

// appendMobile appends the idx-th number of use in UK national form
// ("07" + 9 digits) to dst. Indexes are taken modulo 10^8; below that, each
// index has its own number.
func appendMobile(dst []byte, use phoneUse, idx uint64) []byte {
	n := (idx%phoneSpace*phoneMul + phoneAdd) % phoneSpace
	dst = append(dst, '0', '7')
	dst = append(dst, mobileBlocks[use][n/10_000_000]...)
	var d [7]byte
	rest := n % 10_000_000
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte('0' + rest%10)
		rest /= 10
	}
	return append(dst, d[:]...)
}

// phoneStart turns a PhoneSeed into a starting index. Seeds are mixed
// (SplitMix64) rather than used directly because callers pass small integers
// or timestamps, whose raw values are often equal modulo 10^8.
func phoneStart(seed int64) uint64 {
	z := uint64(seed) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return (z ^ (z >> 31)) % phoneSpace
}
