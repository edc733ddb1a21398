package gsm

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a manual clock so TTL tests need no sleeps.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestReassembler(ttl time.Duration) (*Reassembler, *clock) {
	c := &clock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	return NewReassembler(ttl, c.now), c
}

type add struct {
	source     string
	ref        uint16
	total, seq byte
	text       string
	done       bool   // whether this Add completes a message
	want       string // the full text when done
}

func TestReassemblerJoinsPartsInSeqOrder(t *testing.T) {
	tests := []struct {
		name string
		adds []add
	}{
		{"parts arriving in order", []add{
			{"+4915", 7, 3, 1, "Hel", false, ""}, {"+4915", 7, 3, 2, "lo ", false, ""}, {"+4915", 7, 3, 3, "you", true, "Hello you"},
		}},
		{"parts arriving out of order", []add{
			{"+4915", 7, 3, 3, "you", false, ""}, {"+4915", 7, 3, 1, "Hel", false, ""}, {"+4915", 7, 3, 2, "lo ", true, "Hello you"},
		}},
		{"a duplicate part is ignored", []add{
			{"+4915", 7, 2, 1, "ab", false, ""}, {"+4915", 7, 2, 1, "XX", false, ""}, {"+4915", 7, 2, 2, "cd", true, "abcd"},
		}},
		{"a duplicate after completion starts a new message", []add{
			{"+4915", 7, 2, 1, "ab", false, ""}, {"+4915", 7, 2, 2, "cd", true, "abcd"}, {"+4915", 7, 2, 2, "cd", false, ""},
		}},
		{"two sources with the same ref are kept apart", []add{
			{"+4915", 7, 2, 1, "A1", false, ""}, {"+3361", 7, 2, 1, "B1", false, ""},
			{"+3361", 7, 2, 2, "B2", true, "B1B2"}, {"+4915", 7, 2, 2, "A2", true, "A1A2"},
		}},
		{"the same ref with another total is another message", []add{
			{"+4915", 7, 2, 1, "A1", false, ""}, {"+4915", 7, 3, 1, "B1", false, ""}, {"+4915", 7, 2, 2, "A2", true, "A1A2"},
		}},
		{"empty part texts still count as arrived", []add{
			{"+4915", 1, 2, 2, "", false, ""}, {"+4915", 1, 2, 1, "", true, ""},
		}},
		{"a one-part message returns at once", []add{
			{"+4915", 9, 1, 1, "solo", true, "solo"},
		}},
		{"seq zero, seq beyond total and total zero are ignored", []add{
			{"+4915", 3, 2, 0, "x", false, ""}, {"+4915", 3, 2, 3, "x", false, ""}, {"+4915", 3, 0, 0, "x", false, ""},
			{"+4915", 3, 2, 1, "a", false, ""}, {"+4915", 3, 2, 2, "b", true, "ab"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := newTestReassembler(time.Minute)
			for i, a := range tt.adds {
				got, ok := r.Add(a.source, a.ref, a.total, a.seq, a.text)
				if ok != a.done || got != a.want {
					t.Fatalf("Add #%d %+v = %q, %v; want %q, %v", i+1, a, got, ok, a.want, a.done)
				}
			}
		})
	}
}

func TestReassemblerDiscardsPartsOlderThanTheTTL(t *testing.T) {
	r, clk := newTestReassembler(time.Minute)
	r.Add("+4915", 5, 2, 1, "old ")
	clk.advance(time.Minute + time.Second)
	if got, ok := r.Add("+4915", 5, 2, 2, "half"); ok {
		t.Fatalf("completed with an expired first part: %q", got)
	}
	if n := r.Pending(); n != 1 {
		t.Fatalf("Pending = %d, want 1 (only the new half)", n)
	}
	r.Add("+4915", 5, 2, 1, "new ")
	if n := r.Pending(); n != 0 {
		t.Errorf("Pending = %d after completion, want 0", n)
	}
}

func TestReassemblerKeepsPartsUpToTheTTL(t *testing.T) {
	r, clk := newTestReassembler(time.Minute)
	r.Add("+4915", 5, 2, 1, "in ")
	clk.advance(time.Minute)
	if got, ok := r.Add("+4915", 5, 2, 2, "time"); !ok || got != "in time" {
		t.Errorf("Add at exactly the TTL = %q, %v; want %q, true", got, ok, "in time")
	}
}

func TestReassemblerEvictsExpiredGroupsOfOtherSendersOnAdd(t *testing.T) {
	r, clk := newTestReassembler(time.Minute)
	for i := range 100 {
		r.Add(fmt.Sprint("+49", i), 1, 2, 1, "x")
	}
	clk.advance(2 * time.Minute)
	r.Add("+3361", 1, 2, 1, "y")
	if n := r.Pending(); n != 1 {
		t.Errorf("Pending = %d, want 1: stale groups must go on any Add", n)
	}
}

func TestReassemblerCapsPendingGroupsByDroppingTheOldest(t *testing.T) {
	r, clk := newTestReassembler(0) // no TTL: only the cap bounds memory
	r.maxGroup = 3
	for i := range 5 {
		r.Add(fmt.Sprint("src", i), 1, 2, 1, fmt.Sprint("p", i))
		clk.advance(time.Second)
	}
	if n := r.Pending(); n != 3 {
		t.Fatalf("Pending = %d, want the cap 3", n)
	}
	if _, ok := r.Add("src0", 1, 2, 2, "q"); ok {
		t.Error("the oldest group survived the cap")
	}
	if got, ok := r.Add("src4", 1, 2, 2, "q"); !ok || got != "p4q" {
		t.Errorf("newest group = %q, %v; want p4q, true", got, ok)
	}
}

func TestReassemblerJoinsPartsParsedFromA16BitReference(t *testing.T) {
	r, _ := newTestReassembler(time.Minute)
	uds := [][]byte{
		{0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x02, 'l', 'd'},
		{0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01, 'w', 'o', 'r'},
	}
	var got string
	var ok bool
	for _, ud := range uds {
		ref, total, seq, hl, pok := ParseUDH(ud)
		if !pok || ref != 0x1234 {
			t.Fatalf("ParseUDH(% X) = ref %#x, ok %v", ud, ref, pok)
		}
		got, ok = r.Add("+4915", ref, total, seq, string(ud[hl:]))
	}
	if !ok || got != "world" {
		t.Errorf("reassembled = %q, %v; want world, true", got, ok)
	}
}

func TestReassemblerIsSafeForConcurrentUse(t *testing.T) {
	r := NewReassembler(time.Minute, nil)
	var wg sync.WaitGroup
	done := make(chan string, 64)
	for src := range 8 {
		for seq := byte(1); seq <= 8; seq++ {
			wg.Go(func() {
				if s, ok := r.Add(fmt.Sprint("src", src), 42, 8, seq, string('a'+rune(seq)-1)); ok {
					done <- s
				}
			})
		}
	}
	wg.Wait()
	close(done)
	n := 0
	for s := range done {
		n++
		if s != "abcdefgh" {
			t.Errorf("reassembled %q, want abcdefgh", s)
		}
	}
	if n != 8 || r.Pending() != 0 {
		t.Errorf("completed %d messages with %d pending, want 8 and 0", n, r.Pending())
	}
}
