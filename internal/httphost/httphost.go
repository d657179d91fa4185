// Package httphost reads the host name of a request's Host header the one
// way every handler that checks it (api, ui) compares it.
package httphost

import (
	"net"
	"strings"
)

// Name is the host name of a Host header ("example.com:8000",
// "[::1]:8000"): lower case, without port, brackets or a final dot.
func Name(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(host, "]"), "["), ".")
	return strings.ToLower(host)
}
