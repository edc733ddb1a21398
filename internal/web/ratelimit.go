package web

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// rateLimiter allows n events per window per client address, with a fixed
// window per address. It is in memory: limits are per process, which is what
// a sign-up form on one or two instances needs.
type rateLimiter struct {
	n      int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex // guards clients
	clients map[string]*windowCount
}

type windowCount struct {
	start time.Time
	count int
}

func newRateLimiter(n int, window time.Duration, now func() time.Time) *rateLimiter {
	return &rateLimiter{n: n, window: window, now: now, clients: map[string]*windowCount{}}
}

// allow records an event for the address and reports whether it is within
// the limit, and if not, how long until the next is allowed.
func (l *rateLimiter) allow(addr string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.clients) > 100_000 {
		l.sweep(now)
	}
	c := l.clients[addr]
	if c == nil || now.Sub(c.start) >= l.window {
		l.clients[addr] = &windowCount{start: now, count: 1}
		return true, 0
	}
	if c.count >= l.n {
		return false, c.start.Add(l.window).Sub(now)
	}
	c.count++
	return true, 0
}

// sweep drops expired windows so the map cannot grow without bound.
func (l *rateLimiter) sweep(now time.Time) {
	for k, c := range l.clients {
		if now.Sub(c.start) >= l.window {
			delete(l.clients, k)
		}
	}
}

// clientAddr is the client's IP without port. Perk does not trust
// X-Forwarded-For: behind a proxy, limit at the proxy.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
