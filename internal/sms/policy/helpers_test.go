package policy

import (
	"testing"
	"time"
)

// at reads "2026-06-10 12:00" (optionally with seconds) as a UTC instant.
func at(s string) time.Time {
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	panic("bad test time " + s)
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// ago returns instants before now, one per duration.
func ago(now time.Time, ds ...time.Duration) []time.Time {
	out := make([]time.Time, len(ds))
	for i, d := range ds {
		out[i] = now.Add(-d)
	}
	return out
}

func mustNew(t testing.TB, cfg Config) *Policy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return p
}

// decideCase is one Decide call and the decision it must produce; sendAt ""
// means the zero time.
type decideCase struct {
	name     string
	now      string
	kind     Kind
	member   Member
	reason   Reason
	sendAt   string
	final    bool
	fallback bool
}

func runDecide(t *testing.T, cfg Config, cases []decideCase) {
	t.Helper()
	p := mustNew(t, cfg)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kind := tc.kind
			if kind == "" {
				kind = Marketing
			}
			var want time.Time
			if tc.sendAt != "" {
				want = at(tc.sendAt)
			}
			got := p.Decide(at(tc.now), kind, tc.member)
			if got.Reason != tc.reason || !got.SendAt.Equal(want) || got.Final != tc.final || got.ZoneFallback != tc.fallback {
				t.Fatalf("Decide(%s UTC, %s) = %s at %v final=%v fallback=%v; want %s at %v final=%v fallback=%v",
					tc.now, kind, got.Reason, got.SendAt, got.Final, got.ZoneFallback,
					tc.reason, want, tc.final, tc.fallback)
			}
			if !got.SendAt.IsZero() && got.SendAt.Location() != time.UTC {
				t.Fatalf("SendAt %v is not in UTC", got.SendAt)
			}
		})
	}
}
