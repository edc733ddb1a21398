package webhook

import (
	"context"
	"time"
)

// Claim claims due deliveries as a dispatcher would and forgets them, as a
// dispatcher killed right after its claim does.
func (s *Service) Claim(ctx context.Context, n int, lease time.Duration) (int, error) {
	js, err := s.claim(ctx, n, lease, nil)
	return len(js), err
}

// ClaimQuery is the claim's statement and arguments, for a test of its plan.
func ClaimQuery(now time.Time, n int, skip []string) (string, []any) {
	return claimQuery(now, time.Minute, "tok", n, skip)
}
