package server

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// loopbackNames are the host names that always mean this machine.
var loopbackNames = []string{"localhost", "127.0.0.1", "::1"}

// hostPolicy decides which Host headers the API answers, against DNS
// rebinding: a page at an attacker's name that resolves to this server is
// same-origin for the browser, but its requests carry the attacker's name
// in Host. Ports are not compared: a rebinding needs the attacker's name,
// and port mappings (docker -p 8080:8000) change the port a client sees.
type hostPolicy struct {
	// any is set for a server on a non-loopback address without a public
	// URL: its names are not known, so every host is answered.
	any bool
	// ipLiterals accepts hosts written as IP addresses (load-balancer and
	// orchestrator health checks use the task's address): no DNS name is
	// involved, so no rebinding.
	ipLiterals bool
	names      map[string]bool
}

// newHostPolicy is the policy of a server listening on listenAddr with the
// public URL publicURL (may be empty):
//
//   - on a loopback address: localhost, 127.0.0.1 and [::1] only, plus
//     the public URL's host;
//   - on any other address with a public URL: those, any IP address, the
//     public URL's host and the listening host name, if it is one;
//   - on any other address without one: every host.
func newHostPolicy(listenAddr, publicURL string) hostPolicy {
	hp := hostPolicy{names: map[string]bool{}}
	for _, n := range loopbackNames {
		hp.names[n] = true
	}
	listenHost, _, err := net.SplitHostPort(listenAddr)
	if err != nil {
		listenHost = listenAddr
	}
	if publicURL != "" {
		if u, err := url.Parse(publicURL); err == nil {
			hp.names[strings.ToLower(u.Hostname())] = true
		}
	}
	if isLoopback(listenHost) {
		return hp
	}
	if publicURL == "" {
		hp.any = true
		return hp
	}
	hp.ipLiterals = true
	if listenHost != "" && net.ParseIP(listenHost) == nil {
		hp.names[strings.ToLower(listenHost)] = true
	}
	return hp
}

// allow reports whether the API answers requests for host (a host name
// without port, lower case; "" when the request named none).
func (hp hostPolicy) allow(host string) bool {
	return hp.any || host == "" || hp.names[host] || hp.ipLiterals && net.ParseIP(host) != nil
}

// trustedOrigins are the host names whose pages may open the alert stream
// besides the server's own origin: the loopback names and the public
// URL's host.
func trustedOrigins(publicURL string) []string {
	out := append([]string(nil), loopbackNames...)
	if u, err := url.Parse(publicURL); err == nil && publicURL != "" {
		out = append(out, strings.ToLower(u.Hostname()))
	}
	return out
}

// isLoopback reports whether a listening host is a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkPublicURL checks Config.PublicURL: an absolute http(s) URL with a
// host and no credentials. Its errors do not quote it.
func checkPublicURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must be an http:// or https:// URL, such as https://watchdog.example.com")
	case u.Hostname() == "":
		return errors.New("has no host")
	case u.User != nil:
		return errors.New("must not contain credentials")
	}
	return nil
}
