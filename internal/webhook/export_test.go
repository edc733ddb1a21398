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
