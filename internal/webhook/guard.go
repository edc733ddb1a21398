package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrPrivateTarget is returned for a webhook URL whose host is, or resolves
// to, a loopback, private, link-local or otherwise internal address, unless
// the operator allowed them (--webhooks-allow-private).
var ErrPrivateTarget = errors.New("webhook: target address is private, loopback or link-local")

// internal reports whether a is an address a webhook must not reach:
// loopback, RFC 1918 and unique-local private ranges, link-local (which
// holds cloud metadata services at 169.254.169.254), unspecified, multicast
// and the shared CGNAT range.
func internal(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// checkURL validates an endpoint URL: absolute http or https, with a host,
// no user info; and, unless allowPrivate, a host whose addresses (resolved
// now) are all public. The dialer checks again at every connection, since
// a name may resolve elsewhere later (DNS rebinding).
func checkURL(ctx context.Context, raw string, allowPrivate bool, resolver *net.Resolver) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("webhook: url must be an absolute http or https URL without credentials or fragment")
	}
	if allowPrivate {
		return u, nil
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if internal(a) {
			return nil, ErrPrivateTarget
		}
		return u, nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return nil, ErrPrivateTarget
	}
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("webhook: resolve %s: %w", host, err)
	}
	for _, a := range addrs {
		if internal(a) {
			return nil, ErrPrivateTarget
		}
	}
	return u, nil
}

// dialControl refuses connections to internal addresses. It runs after name
// resolution, on the address actually dialled, so a name that resolved to a
// public address at registration and to 127.0.0.1 now is still refused.
func dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: dial %s: %w", address, err)
	}
	if internal(ap.Addr()) {
		return fmt.Errorf("webhook: dial %s: %w", address, ErrPrivateTarget)
	}
	return nil
}
