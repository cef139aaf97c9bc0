package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"testing"
	"time"
)

// closedAddr is a loopback address where nothing listens: a port that
// was just listened on and closed.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// failure sends one GET to url through c and returns the *Failure it
// fails with.
func failure(t *testing.T, c *Client, url string) *Failure {
	t.Helper()
	if c.Service == "" {
		c.Service = Fulcio
	}
	_, err := c.Do(context.Background(), http.MethodGet, url, nil, nil)
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("GET %s: %v (%T), want a *Failure", url, err, err)
	}
	if strings.Count(f.Error(), f.URL) != 1 || strings.ContainsAny(f.Error(), "\n\x1b") {
		t.Errorf("message %q should name the URL %s exactly once, on one line", f.Error(), f.URL)
	}
	return f
}

func quick() *Client { return &Client{Timeout: 2 * time.Second, Retries: 0} }

func TestExplainClasses(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"code":503,"message":"log is read-only \u001b[31mnow"}`))
	}))
	defer plain.Close()
	selfSigned := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	selfSigned.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	selfSigned.StartTLS()
	defer selfSigned.Close()
	// A client that trusts selfSigned's certificate, to reach it by a name
	// the certificate does not hold.
	pool := x509.NewCertPool()
	pool.AddCert(selfSigned.Certificate())
	trusting := quick()
	trusting.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	_, port, _ := net.SplitHostPort(selfSigned.Listener.Addr().String())
	closed := closedAddr(t)

	for _, tc := range []struct {
		name   string
		client *Client
		url    string
		class  Class
		want   string // the whole message, with URL for the URL
	}{
		{"closed port", quick(), "http://" + closed + "/api", Refused,
			"cannot reach Fulcio at URL: connection refused (nothing listens there)"},
		{"unresolvable host", quick(), "http://nonexistent.invalid/api", DNS,
			"cannot reach Fulcio at URL: no such host: nonexistent.invalid does not resolve"},
		{"self-signed certificate", quick(), selfSigned.URL + "/api", TLS,
			"cannot reach Fulcio at URL: TLS: its certificate is signed by an authority this machine does not trust"},
		{"certificate for another name", trusting, "https://localhost:" + port + "/api", TLS,
			"cannot reach Fulcio at URL: TLS: its certificate is not for localhost (it is for example.com, *.example.com, 127.0.0.1, ::1)"},
		{"http server at an https URL", quick(), strings.Replace(plain.URL, "http:", "https:", 1) + "/api", TLS,
			"cannot reach Fulcio at URL: TLS: the server did not answer in TLS (an http:// server?)"},
		{"not a web URL", quick(), "fulcio.example/api", BadURL,
			"cannot reach Fulcio at URL: not an http:// or https:// URL"},
		{"server error", quick(), plain.URL + "/api", Status,
			`Fulcio at URL answered 503 Service Unavailable: log is read-only \x1b[31mnow`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := failure(t, tc.client, tc.url)
			if f.Class != tc.class {
				t.Errorf("class %s, want %s (%v)", f.Class, tc.class, f.Err)
			}
			if want := strings.Replace(tc.want, "URL", tc.url, 1); f.Error() != want {
				t.Errorf("message\n  %s\nwant\n  %s", f.Error(), want)
			}
			if len(f.Hints("git config gitsign.fulcio or GITSIGN_FULCIO_URL", "")) == 0 {
				t.Error("no hint")
			}
		})
	}
}

func TestExplainTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accepted, never answered
		}
	}()
	c := &Client{Timeout: 150 * time.Millisecond, Service: Rekor}
	url := "http://" + l.Addr().String() + "/api/v1/log/entries"
	f := failure(t, c, url)
	if f.Class != Timeout || f.Error() != "Rekor at "+url+" gave no answer within 150ms" {
		t.Errorf("%s: %s", f.Class, f.Error())
	}
	if !IsTimeout(f) {
		t.Error("IsTimeout does not see through the Failure")
	}
	if h := f.Hints("x", ""); len(h) != 1 || !strings.Contains(h[0], "gitsign.timeout (GITSIGN_TIMEOUT, default 30s)") {
		t.Errorf("hints %q", h)
	}
}

func TestExplainProxyRefuses(t *testing.T) {
	proxy := &neturl.URL{Scheme: "http", Host: closedAddr(t)}
	c := quick()
	c.Service = TSA
	c.Transport = &http.Transport{Proxy: http.ProxyURL(proxy)}
	url := "https://tsa.example/api/v1/timestamp"
	f := failure(t, c, url)
	want := "cannot reach the timestamp authority at " + url + " through the proxy " + proxy.Host + ": connection refused (nothing listens there)"
	if f.Class != Proxy || f.Error() != want {
		t.Errorf("%s: %s\nwant %s", f.Class, f.Error(), want)
	}
	if h := f.Hints("x", ""); len(h) != 1 || !strings.Contains(h[0], "HTTPS_PROXY") || !strings.Contains(h[0], "NO_PROXY") {
		t.Errorf("hints %q", h)
	}
}

// A proxy that answers CONNECT with a refusal leaves only its status text
// in the error: the proxy the environment names is blamed.
func TestExplainProxyAnswersForbidden(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer proxy.Close()
	pu, _ := neturl.Parse(proxy.URL)
	old := proxyFromEnvironment
	proxyFromEnvironment = func(*http.Request) (*neturl.URL, error) { return pu, nil }
	defer func() { proxyFromEnvironment = old }()
	c := quick()
	c.Service = Issuer
	c.Transport = &http.Transport{Proxy: http.ProxyURL(pu)}
	url := "https://issuer.example/.well-known/openid-configuration"
	f := failure(t, c, url)
	want := "cannot reach the OIDC issuer at " + url + " through the proxy " + proxy.URL + ": the proxy answered: Forbidden"
	if f.Class != Proxy || f.Error() != want {
		t.Errorf("%s: %s\nwant %s", f.Class, f.Error(), want)
	}
	hints := strings.Join(f.Hints("x", ""), "\n")
	if !strings.Contains(hints, "SIGSTORE_ID_TOKEN") {
		t.Errorf("the issuer's hints do not name SIGSTORE_ID_TOKEN: %s", hints)
	}
}

// Through HTTPClient (the OIDC libraries' client) the *Failure is in the
// chain under http.Client's *url.Error.
func TestExplainHTTPClient(t *testing.T) {
	c := quick()
	c.Service = Issuer
	url := "http://" + closedAddr(t) + "/.well-known/openid-configuration"
	_, err := c.HTTPClient().Get(url)
	var f *Failure
	if !errors.As(err, &f) || f.Class != Refused || f.URL != url {
		t.Fatalf("%v", err)
	}
}

func TestExplainLeavesOtherErrors(t *testing.T) {
	other := errors.New("fulcio: malformed response")
	if got := Explain(Fulcio, "https://f", other); got != other {
		t.Errorf("Explain changed %v into %v", other, got)
	}
	if Explain(Fulcio, "https://f", nil) != nil {
		t.Error("nil is not nil")
	}
	// Without a Service, Do's errors are as they were.
	_, err := quick().Do(context.Background(), http.MethodGet, "http://"+closedAddr(t), nil, nil)
	var f *Failure
	if err == nil || errors.As(err, &f) {
		t.Errorf("err %v", err)
	}
}

func TestExplainCredentialsHidden(t *testing.T) {
	url := "http://user:secret@" + closedAddr(t) + "/x"
	f := failure(t, quick(), url)
	if strings.Contains(f.Error(), "secret") {
		t.Errorf("message shows the password: %s", f.Error())
	}
}
