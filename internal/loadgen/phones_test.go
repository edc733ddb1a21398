package loadgen

import (
	"regexp"
	"slices"
	"testing"
)

// ukMobile is the shape of every number appendMobile produces. Whether
// libphonenumber accepts it depends on the block, checked separately below.
var ukMobile = regexp.MustCompile(`^07[4589][0-9]{8}$`)

func TestPhoneMulIsCoprimeToSpace(t *testing.T) {
	// The numbering is a bijection only if phoneMul shares no factor (2 or 5)
	// with 10^8; a careless edit to the constant would silently repeat numbers.
	a, b := uint64(phoneMul), uint64(phoneSpace)
	for b != 0 {
		a, b = b, a%b
	}
	if a != 1 {
		t.Fatalf("gcd(phoneMul, phoneSpace) = %d, want 1", a)
	}
}

func TestMobileBlocks(t *testing.T) {
	for use, blocks := range mobileBlocks {
		for _, b := range blocks {
			// 0770 and 0791 hold ranges libphonenumber rejects; the rest of 077
			// was left out to keep to the ranges agreed with the lead.
			if len(b) != 2 || !slices.Contains([]byte("4589"), b[0]) || b == "91" {
				t.Errorf("use %d: block 07%s is outside 074/075/078/079 or in 0791", use, b)
			}
		}
	}
	for _, b := range mobileBlocks[phonesForFiles] {
		if slices.Contains(mobileBlocks[phonesForAPI][:], b) {
			t.Errorf("block 07%s is used by both files and API runs; their numbers could collide", b)
		}
	}
}

func TestAppendMobile(t *testing.T) {
	tests := []struct {
		use phoneUse
		idx uint64
	}{
		{phonesForFiles, 0}, {phonesForFiles, 1}, {phonesForFiles, phoneSpace - 1},
		{phonesForAPI, 0}, {phonesForAPI, 12_345_678}, {phonesForAPI, 1 << 40},
	}
	for _, tt := range tests {
		got := string(appendMobile([]byte("x"), tt.use, tt.idx))
		if got[0] != 'x' || !ukMobile.MatchString(got[1:]) {
			t.Errorf("appendMobile(%d, %d) = %q, want x followed by a UK mobile", tt.use, tt.idx, got)
		}
		if !slices.Contains(mobileBlocks[tt.use][:], got[3:5]) {
			t.Errorf("appendMobile(%d, %d) = %q: block %s not in its use's list", tt.use, tt.idx, got, got[3:5])
		}
	}
	// Indexes wrap at 10^8, which is why GenerateMembersCSV caps its rows there.
	if a, b := appendMobile(nil, phonesForAPI, 7), appendMobile(nil, phonesForAPI, phoneSpace+7); string(a) != string(b) {
		t.Errorf("index %d and %d differ: %s vs %s", 7, phoneSpace+7, a, b)
	}
}

func TestPhoneStart(t *testing.T) {
	seen := map[uint64]int64{}
	// Small seeds and timestamps a second apart are what callers pass; they
	// must land far apart, not on the same start.
	for _, seed := range []int64{0, 1, 2, 3, -1, 1_700_000_000_000_000_000, 1_700_000_001_000_000_000} {
		s := phoneStart(seed)
		if s >= phoneSpace {
			t.Fatalf("phoneStart(%d) = %d, outside the space", seed, s)
		}
		if prev, dup := seen[s]; dup {
			t.Fatalf("phoneStart(%d) = phoneStart(%d) = %d", seed, prev, s)
		}
		seen[s] = seed
		if phoneStart(seed) != s {
			t.Fatalf("phoneStart(%d) is not deterministic", seed)
		}
	}
}
