package middleware

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies is the set of addresses whose X-Forwarded-For is believed.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads CIDRs ("10.0.0.0/8") and single addresses
// ("192.0.2.7"); it reports every bad entry at once.
func ParseTrustedProxies(entries []string) (TrustedProxies, error) {
	var out TrustedProxies
	var bad []string
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		bad = append(bad, fmt.Sprintf("%q", e))
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("not a CIDR or IP address: %s", strings.Join(bad, ", "))
	}
	return out, nil
}

func (t TrustedProxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr works out the client's address. The X-Forwarded-For header is
// read only when the connection comes from a trusted proxy, and then from
// the right: the first address that is not a trusted proxy is the client
// (addresses further left were written by the client itself and prove
// nothing).
func clientAddr(r *http.Request, trusted TrustedProxies) netip.Addr {
	peer := remoteAddr(r)
	if !peer.IsValid() || !trusted.trusts(peer) {
		return peer
	}
	hops := forwardedFor(r.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		if !trusted.trusts(hops[i]) {
			return hops[i]
		}
	}
	if len(hops) > 0 {
		return hops[0]
	}
	return peer
}

// forwardedFor parses every X-Forwarded-For header line, left to right. An
// unparsable hop ends the chain: nothing left of it can be trusted.
func forwardedFor(lines []string) []netip.Addr {
	var hops []netip.Addr
	for _, line := range lines {
		for _, part := range strings.Split(line, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(part))
			if err != nil {
				hops = hops[:0]
				continue
			}
			hops = append(hops, a.Unmap())
		}
	}
	return hops
}

func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
