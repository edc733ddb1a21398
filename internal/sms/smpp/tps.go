package smpp

import "golang.org/x/time/rate"

// newTPSLimit returns the client's submit_sm rate limit: a token bucket of
// tps tokens a second holding at most tps (one second's worth), so an idle
// client may burst a second's quota and is held to the rate after. SMSC
// contracts state TPS per second, so a second's burst stays within them.
// tps 0 means no limit.
func newTPSLimit(tps int) *rate.Limiter {
	if tps <= 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(tps), tps)
}
