package id

import (
	"testing"
	"time"
)

func TestNew_PrefixedSortableUnique(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	a, b := New("mem", t0), New("mem", t0.Add(time.Millisecond))
	if !HasPrefix(a, "mem") || len(a) != len("mem_")+26 {
		t.Fatalf("New = %q", a)
	}
	if !(a < b) {
		t.Fatalf("ids do not sort by time: %s !< %s", a, b)
	}
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		s := New("mem", t0)
		if seen[s] {
			t.Fatalf("duplicate id %s within one millisecond", s)
		}
		seen[s] = true
	}
	if HasPrefix("mem_short", "mem") || HasPrefix(a, "key") {
		t.Fatal("HasPrefix accepts what New did not make")
	}
}

func TestToken_Length(t *testing.T) {
	if got := len(Token(16)); got != 26 { // 128 bits in base32
		t.Fatalf("Token(16) has %d characters", got)
	}
	if Token(16) == Token(16) {
		t.Fatal("two tokens are equal")
	}
}
