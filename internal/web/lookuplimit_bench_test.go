package web

import (
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
)

// BenchmarkLookupLimit is the limiter's cost on a till's hot path: one
// begin and done per evaluate or commit that names a member, across 1,000
// keys of 100 stores.
func BenchmarkLookupLimit(b *testing.B) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	l := newLookupLimiter(LookupLimit{Rate: 1e9, Burst: 1e9}, func() time.Time { return now },
		slog.New(slog.NewTextHandler(io.Discard, nil)), func(string) {})
	keys := make([]*auth.Key, 1000)
	for i := range keys {
		keys[i] = &auth.Key{ID: "key" + strconv.Itoa(i), Role: auth.RolePOS, Store: "S" + strconv.Itoa(i%100)}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			done, _ := l.begin(keys[i%len(keys)])
			done(nil)
			i++
		}
	})
}
