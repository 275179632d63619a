// Package httpconf holds what every HTTP client of runlog's backends
// shares: TLS settings read from PEM files, a redirect policy that never
// carries credentials to another origin, and making a server's text safe
// to put in an error message.
package httpconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/runlog/runlog"
)

// TLSConfig builds a TLS configuration from PEM files: a CA to verify the
// server, and a client certificate and key. Empty names are skipped;
// verification is on unless insecureSkipVerify.
func TLSConfig(caFile, certFile, keyFile string, insecureSkipVerify bool) (*tls.Config, error) {
	t := &tls.Config{InsecureSkipVerify: insecureSkipVerify} //nolint:gosec // opt-in
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, runlog.Invalidf("read CA file: %v", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, runlog.Invalidf("CA file %s holds no PEM certificate", caFile)
		}
	}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, runlog.Invalidf("load client certificate: %v", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// ErrRedirect is what a request fails with when the server redirects it to
// another scheme, host or port.
var ErrRedirect = errors.New("redirected to another origin")

// SameOrigin is an http.Client CheckRedirect function that follows up to
// 10 redirects within the scheme, host and port of the first request, and
// refuses any other: the headers (credentials, tenant) that the first
// request carried would otherwise be sent there, https to http included.
func SameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return fmt.Errorf("%w: %s://%s to %s://%s; not followed, so that credentials stay with %s; configure the URL the server redirects to",
			ErrRedirect, first.Scheme, first.Host, req.URL.Scheme, Clean(req.URL.Host, 200), first.Host)
	}
	return nil
}

// Clean returns s, cut to at most max bytes, with control characters,
// escape sequences and invalid UTF-8 replaced, so that text from a server
// or a file can go into an error message shown on a terminal.
func Clean(s string, max int) string {
	cut := false
	if len(s) > max {
		s, cut = s[:max], true
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			if cut && len(s)-i < utf8.UTFMax {
				continue // the cut split a character
			}
			b.WriteRune(utf8.RuneError)
		case r == '\n' || r == '\t':
			b.WriteByte(' ')
		case !unicode.IsPrint(r) && r != ' ':
			b.WriteString(fmt.Sprintf("\\u%04x", r))
		default:
			b.WriteRune(r)
		}
	}
	if cut {
		b.WriteString("...")
	}
	return b.String()
}
