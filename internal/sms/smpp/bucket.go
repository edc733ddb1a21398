package smpp

import (
	"context"
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens a second, holding at most rate (one
// second's worth), so an idle client may burst a second's quota and is
// held to the rate after. SMSC contracts state TPS per second, so a
// second's burst stays within them.
type bucket struct {
	rate float64 // tokens per second; 0 means unlimited

	mu     sync.Mutex
	tokens float64   // guarded by mu
	last   time.Time // guarded by mu; when tokens was computed
	now    func() time.Time
}

func newBucket(tps int) *bucket {
	return &bucket{rate: float64(tps), tokens: float64(tps), now: time.Now}
}

// wait takes a token, waiting for one as long as ctx allows.
func (b *bucket) wait(ctx context.Context) error {
	if b.rate <= 0 {
		return nil
	}
	for {
		d := b.take()
		if d == 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// take takes a token if there is one and returns 0, else returns how long
// until there will be one.
func (b *bucket) take() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !b.last.IsZero() {
		b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return max(time.Millisecond, time.Duration((1-b.tokens)/b.rate*float64(time.Second)))
}
