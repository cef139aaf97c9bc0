package httpx

// This file explains a failed request in one line: which service could not
// be reached, at which URL (once), and why in words a person can act on
// (the host name does not resolve, nothing listens there, no answer in
// time, a TLS certificate that is not trusted, a proxy that refused, the
// server's own answer). Hints say what to change; the caller names the
// setting that holds the service's URL.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"
	"syscall"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// Service names a server gitsign talks to, as messages name it.
type Service string

// The services gitsign reaches.
const (
	Fulcio        Service = "Fulcio"
	Rekor         Service = "Rekor"
	TSA           Service = "the timestamp authority"
	Issuer        Service = "the OIDC issuer"
	GitHubActions Service = "the GitHub Actions token service"
	TUF           Service = "the TUF mirror"
)

// Class is the kind of a failed request.
type Class int

// The classes Explain tells apart.
const (
	// Other is not a failure to reach a server: Explain leaves it alone.
	Other Class = iota
	// DNS: the host name does not resolve.
	DNS
	// Refused: nothing listens at the address.
	Refused
	// Unreachable: no route to the host or network, or the connection
	// was reset.
	Unreachable
	// Timeout: no answer in time.
	Timeout
	// TLS: the server's certificate is not trusted or not for this host,
	// or the TLS handshake failed.
	TLS
	// Proxy: the proxy could not be reached or refused the connection.
	Proxy
	// Status: the server answered with a status outside 2xx.
	Status
	// BadURL: the URL is not an http:// or https:// URL (a setting to fix,
	// not a server to wait for).
	BadURL
)

var classNames = [...]string{"other", "dns", "refused", "unreachable", "timeout", "tls", "proxy", "status", "url"}

// String is the class's short name ("dns", "refused", ...).
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Failure is a request to a service that failed, explained. Its message
// is one line naming the service and the URL once; text from the server
// is escaped.
type Failure struct {
	Service Service
	URL     string // the request's URL, without credentials
	Class   Class
	Status  int    // the HTTP status, for Status
	Proxy   string // the proxy the request went through, when known
	Reason  string // why, in words (escaped)
	Err     error  // the error explained
}

// Error says what failed, on one line.
func (f *Failure) Error() string {
	switch f.Class {
	case Status:
		return fmt.Sprintf("%s at %s answered %s", f.Service, f.URL, f.Reason)
	case Timeout:
		return fmt.Sprintf("%s at %s %s", f.Service, f.URL, f.Reason)
	case Proxy:
		if f.Proxy != "" {
			return fmt.Sprintf("cannot reach %s at %s through the proxy %s: %s", f.Service, f.URL, f.Proxy, f.Reason)
		}
		return fmt.Sprintf("cannot reach %s at %s through the proxy: %s", f.Service, f.URL, f.Reason)
	}
	return fmt.Sprintf("cannot reach %s at %s: %s", f.Service, f.URL, f.Reason)
}

// Unwrap returns the error explained.
func (f *Failure) Unwrap() error { return f.Err }

// Explain returns err as a *Failure of service when it is a failure to
// reach rawURL (the host does not resolve, the connection is refused or
// times out, TLS fails, a proxy refuses) or an answer outside 2xx (a
// *StatusError), and err unchanged otherwise (nil stays nil, a *Failure
// stays as it is). rawURL may be empty: the URL is then taken from err
// (a *StatusError, or the *url.Error of an http.Client).
func Explain(service Service, rawURL string, err error) error {
	if err == nil {
		return nil
	}
	var f *Failure
	if errors.As(err, &f) {
		return err
	}
	f = &Failure{Service: service, URL: rawURL, Err: err}
	var se *StatusError
	var ue *neturl.Error
	switch {
	case errors.As(err, &se) && f.URL == "":
		f.URL = se.URL
	case errors.As(err, &ue) && f.URL == "":
		f.URL = ue.URL
	}
	f.URL = redact(f.URL)
	f.Class, f.Reason = classify(err)
	if f.Class == Other {
		// A proxy that answers CONNECT with a refusal leaves only its
		// status text ("Forbidden"): when the request went through a
		// proxy and nothing else explains the error, the proxy did.
		if p := proxyFor(f.URL); p != "" && !errors.Is(err, context.Canceled) {
			f.Class, f.Proxy, f.Reason = Proxy, p, "the proxy answered: "+printable.String(lastWords(err))
		} else {
			return err
		}
	}
	if errors.As(err, &se) {
		f.Status = se.Status
	}
	if f.Class == Proxy && f.Proxy == "" {
		f.Proxy = proxyAddr(err)
	}
	return f
}

// classify says what kind of failure err is, and why in words.
func classify(err error) (Class, string) {
	var (
		se  *StatusError
		op  *net.OpError
		dns *net.DNSError
		te  *timeoutError
	)
	if errors.As(err, &se) {
		return Status, statusWords(se)
	}
	if strings.Contains(err.Error(), "unsupported protocol scheme") {
		return BadURL, "not an http:// or https:// URL"
	}
	if errors.As(err, &op) && op.Op == "proxyconnect" {
		_, why := classify(op.Err)
		if why == "" {
			why = lastWords(op.Err)
		}
		return Proxy, why
	}
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return DNS, "no such host: " + printable.String(dns.Name) + " does not resolve"
		}
		if dns.IsTimeout {
			return DNS, "looking up " + printable.String(dns.Name) + " timed out (is a DNS server reachable?)"
		}
		return DNS, "looking up " + printable.String(dns.Name) + " failed: " + printable.String(dns.Err)
	}
	if class, why := classifyTLS(err); class != Other {
		return class, why
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused, "connection refused (nothing listens there)"
	case errors.Is(err, syscall.ECONNRESET):
		return Unreachable, "the connection was reset"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return Unreachable, "no route to the host"
	case errors.Is(err, syscall.ENETUNREACH):
		return Unreachable, "the network is unreachable"
	case errors.As(err, &te):
		return Timeout, "gave no answer within " + te.after.String()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return Timeout, "gave no answer in time"
	}
	return Other, ""
}

// classifyTLS recognizes a TLS failure: a certificate that is not trusted,
// not for this host or not valid, or a handshake that failed.
func classifyTLS(err error) (Class, string) {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		alert    tls.AlertError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown):
		return TLS, "TLS: its certificate is signed by an authority this machine does not trust"
	case errors.As(err, &hostname):
		return TLS, "TLS: its certificate is not for " + printable.String(hostname.Host) + certNames(hostname.Certificate)
	case errors.As(err, &invalid):
		return TLS, "TLS: " + printable.String(invalid.Error())
	case errors.As(err, &verify):
		return TLS, "TLS: the certificate does not verify: " + printable.String(lastWords(verify.Err))
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return TLS, "TLS: the server did not answer in TLS (an http:// server?)"
	case errors.As(err, &alert):
		return TLS, "TLS handshake failed: the server sent " + printable.String(alert.Error())
	case strings.Contains(err.Error(), "tls: "):
		return TLS, "TLS handshake failed: " + printable.String(lastWords(err))
	}
	return Other, ""
}

// certNames is " (it is for NAME, ...)", the names a certificate holds,
// or "" when it holds none.
func certNames(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	names := slices.Clone(cert.DNSNames)
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return ""
	}
	if len(names) > 4 {
		names = append(names[:4], "...")
	}
	return " (it is for " + printable.String(strings.Join(names, ", ")) + ")"
}

// statusWords is a status and the server's own short message, escaped.
func statusWords(se *StatusError) string {
	words := fmt.Sprintf("%d %s", se.Status, http.StatusText(se.Status))
	if msg := serverMessage(se.Body); msg != "" {
		words += ": " + msg
	}
	return words
}

// serverMessage is what a server said in an error answer: the message of
// a JSON error body ({"message": ...}, {"error_description": ...},
// {"error": ...}; none for other JSON), else the body's first line,
// shortened and escaped.
func serverMessage(body string) string {
	var e struct {
		Message     string `json:"message"`
		Description string `json:"error_description"`
		Error       any    `json:"error"`
	}
	msg := ""
	isJSON := json.Unmarshal([]byte(body), &e) == nil
	if isJSON {
		switch {
		case e.Message != "":
			msg = e.Message
		case e.Description != "":
			msg = e.Description
		default:
			if s, ok := e.Error.(string); ok {
				msg = s
			}
		}
	}
	if msg == "" && !isJSON {
		msg, _, _ = strings.Cut(strings.TrimSpace(body), "\n")
	}
	msg = strings.TrimSpace(msg)
	if r := []rune(msg); len(r) > 160 {
		msg = string(r[:157]) + "..."
	}
	return printable.String(msg)
}

// lastWords is the innermost part of an error's message: "connect:
// connection refused" of "dial tcp 127.0.0.1:1: connect: connection
// refused" is not wanted, but the words after the last address are.
func lastWords(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	return err.Error()
}

// proxyFromEnvironment is http.ProxyFromEnvironment (tests replace it: it
// reads the environment once per process).
var proxyFromEnvironment = http.ProxyFromEnvironment

// proxyFor is the proxy the environment (HTTPS_PROXY, HTTP_PROXY,
// NO_PROXY) names for rawURL, without credentials, or "".
func proxyFor(rawURL string) string {
	u, err := neturl.Parse(rawURL)
	if err != nil || u.Host == "" {
		return ""
	}
	p, err := proxyFromEnvironment(&http.Request{URL: u})
	if err != nil || p == nil {
		return ""
	}
	return p.Redacted()
}

// proxyAddr is the address of the proxy a "proxyconnect" error could not
// reach.
func proxyAddr(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "proxyconnect" {
		var inner *net.OpError
		if errors.As(op.Err, &inner) && inner.Addr != nil {
			return inner.Addr.String()
		}
		var dns *net.DNSError
		if errors.As(op.Err, &dns) {
			return dns.Name
		}
	}
	return ""
}

// redact drops credentials from a URL for messages.
func redact(rawURL string) string {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return printable.String(rawURL)
	}
	return printable.String(u.Redacted())
}

// Hints says what the person can do about f. setting names what sets the
// service's URL (e.g. "git config gitsign.fulcio or GITSIGN_FULCIO_URL");
// timeout names what sets how long a request may take ("" for gitsign's
// gitsign.timeout and GITSIGN_TIMEOUT).
func (f *Failure) Hints(setting, timeout string) []string {
	if timeout == "" {
		timeout = "gitsign.timeout (GITSIGN_TIMEOUT, default " + DefaultTimeout.String() + ")"
	}
	checkURL := "check the URL: it comes from " + setting
	var out []string
	switch f.Class {
	case DNS, Refused, Unreachable, BadURL:
		out = append(out, checkURL)
		if p := proxyFor(f.URL); p == "" && f.Class == DNS {
			out = append(out, "if this machine reaches the network through a proxy, set HTTPS_PROXY (HTTP_PROXY for http:// URLs) to the proxy's URL")
		}
	case Timeout:
		out = append(out, "each request waits at most "+timeout+": raise it for a slow server")
	case TLS:
		out = append(out, checkURL)
		out = append(out, "if a proxy or firewall presents its own certificate, add its CA to the system's trusted certificates (or SSL_CERT_FILE), or set NO_PROXY to reach the host directly; HTTPS_PROXY names the proxy")
	case Proxy:
		out = append(out, "the proxy comes from HTTPS_PROXY (HTTP_PROXY for http:// URLs): fix or unset it, or list the host in NO_PROXY to reach it directly")
	case Status:
		switch {
		case f.Status == http.StatusTooManyRequests:
			out = append(out, "the server is limiting requests: try again in a minute")
		case f.Status >= 500:
			out = append(out, "the server failed: try again later")
		case f.Status == http.StatusNotFound || f.Status == http.StatusMethodNotAllowed:
			out = append(out, checkURL)
		}
	}
	if f.Service == Issuer {
		out = append(out, "in CI, set SIGSTORE_ID_TOKEN to an OIDC identity token (audience sigstore): no issuer is contacted then")
	}
	return out
}
