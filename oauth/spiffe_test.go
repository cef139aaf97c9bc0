package oauth

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/testspiffe"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// spiffeClaims are a JWT-SVID's claims, as SPIRE mints them.
func spiffeClaims(sub, aud string, exp time.Time) map[string]any {
	return map[string]any{"iss": "https://oidc-discovery.example.test", "sub": sub, "aud": []string{aud}, "exp": exp.Unix(), "iat": time.Now().Unix()}
}

func spiffeEnv(socket string) func(string) (string, bool) {
	return env(map[string]string{EnvSPIFFEEndpointSocket: socket})
}

// socketDir is a new directory whose path is short enough for a socket.
func socketDir(t *testing.T) string {
	t.Helper()
	dir, err := testspiffe.SocketDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestSPIFFEProvider(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	minted := make(chan string, 10)
	agent := testspiffe.StartServer(t, func(aud string) (string, error) {
		tok := s.sign(t, spiffeClaims(testspiffe.SPIFFEID, aud, time.Now().Add(5*time.Minute)))
		minted <- tok
		return tok, nil
	})
	for _, tc := range []struct {
		name, socket, clientID, aud string
	}{
		{"path", agent.SocketPath, "", "sigstore"},
		{"unix URI", "unix://" + agent.SocketPath, "", "sigstore"},
		{"client ID", agent.SocketPath, "fulcio 'x'", "fulcio 'x'"},
	} {
		tok, err := Get(context.Background(), Options{Provider: "spiffe", ClientID: tc.clientID, LookupEnv: spiffeEnv(tc.socket)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if raw := <-minted; tok.Raw != raw || tok.Source != "spiffe" || tok.Subject != testspiffe.SPIFFEID ||
			tok.Issuer != "https://oidc-discovery.example.test" || !slices.Equal(tok.Audience, []string{tc.aud}) {
			t.Errorf("%s: %v, aud %q", tc.name, tok, tok.Audience)
		}
	}
	// The request go-spiffe's client makes: one audience, no SPIFFE ID,
	// the security header (which the stand-in, like SPIRE, requires).
	reqs := agent.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, want := range []string{"sigstore", "sigstore", "fulcio 'x'"} {
		if r := reqs[i]; !slices.Equal(r.Audience, []string{want}) || r.SpiffeID != "" || !slices.Equal(r.Header, []string{"true"}) {
			t.Errorf("request %d: %+v", i, r)
		}
	}
}

// TestSPIFFEDefaultSocket: without SPIFFE_ENDPOINT_SOCKET, the reference's
// default path is asked, and the error says it is the default.
func TestSPIFFEDefaultSocket(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(DefaultSPIFFESocket); err == nil {
		t.Skip(DefaultSPIFFESocket + " exists on this machine")
	}
	for _, socket := range []string{"", " "} {
		_, err := Get(context.Background(), Options{Provider: "spiffe", LookupEnv: spiffeEnv(socket)})
		want := "oauth: spiffe: no SPIFFE Workload API: no socket at /tmp/spire-agent/public/api.sock (the default path; SPIFFE_ENDPOINT_SOCKET names another): is the SPIRE agent running?"
		if err == nil || err.Error() != want || !errors.Is(err, ErrNoWorkloadAPI) {
			t.Errorf("SPIFFE_ENDPOINT_SOCKET=%q: %v\nwant %s", socket, err, want)
		}
	}
	_, err := Get(context.Background(), Options{Provider: "spiffe", LookupEnv: env(nil)})
	if !errors.Is(err, ErrNoWorkloadAPI) || !strings.Contains(err.Error(), "no socket at /tmp/spire-agent/public/api.sock (the default path;") {
		t.Errorf("unset: %v", err)
	}
}

func TestSPIFFEFailures(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	future := time.Now().Add(5 * time.Minute)
	answer := func(token string, err error) func(*testing.T) string {
		return func(t *testing.T) string {
			return testspiffe.Start(t, func(string) (string, error) { return token, err })
		}
	}
	const (
		timeout = 300 * time.Millisecond
		noAPI   = "oauth: spiffe: no SPIFFE Workload API: "
	)
	for _, tc := range []struct {
		name string
		// socket makes what SPIFFE_ENDPOINT_SOCKET names ({socket} in want).
		socket func(t *testing.T) string
		want   string
		is     error
	}{
		{"no socket", func(t *testing.T) string { return filepath.Join(socketDir(t), "api.sock") },
			noAPI + "no socket at {socket} (SPIFFE_ENDPOINT_SOCKET names it): is the SPIRE agent running?", ErrNoWorkloadAPI},
		{"no socket, unix URI", func(t *testing.T) string { return "unix://" + filepath.Join(socketDir(t), "api.sock") },
			noAPI + "no socket at {path} (SPIFFE_ENDPOINT_SOCKET names it): is the SPIRE agent running?", ErrNoWorkloadAPI},
		{"no socket, control characters", func(t *testing.T) string { return filepath.Join(socketDir(t), "a\x1b[2J b.sock") },
			noAPI + "no socket at {socket} (SPIFFE_ENDPOINT_SOCKET names it): is the SPIRE agent running?", ErrNoWorkloadAPI},
		{"not a socket", func(t *testing.T) string {
			p := filepath.Join(socketDir(t), "api.sock")
			writeFile(t, p, "")
			return p
		}, noAPI + "{socket} is not a socket (SPIFFE_ENDPOINT_SOCKET names it)", ErrNoWorkloadAPI},
		{"agent stopped", func(t *testing.T) string {
			p := filepath.Join(socketDir(t), "api.sock")
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			l.SetUnlinkOnClose(false)
			l.Close()
			return p
		}, noAPI + "nothing listens on the socket {socket} (SPIFFE_ENDPOINT_SOCKET names it; a SPIRE agent that stopped leaves it behind): is the SPIRE agent running?", ErrNoWorkloadAPI},
		{"not gRPC", func(t *testing.T) string {
			// An HTTP/1.1 server, answering gRPC's preface as a bad request.
			return serveRaw(t, func(c net.Conn) {
				c.Read(make([]byte, 24))
				c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
				time.Sleep(time.Second)
			})
		}, noAPI + "what listens on {socket} does not speak gRPC (SPIFFE_ENDPOINT_SOCKET names it): error reading server preface: http2: failed reading the frame payload: ", ErrNoWorkloadAPI},
		// The cause shown (reading the server's preface, or writing the
		// client's) depends on who is first.
		{"closes at once", func(t *testing.T) string { return serveRaw(t, func(c net.Conn) { c.Read(make([]byte, 24)) }) },
			noAPI + "what listens on {socket} does not speak gRPC (SPIFFE_ENDPOINT_SOCKET names it): ", ErrNoWorkloadAPI},
		{"never answers", func(t *testing.T) string {
			return serveRaw(t, func(c net.Conn) { c.Read(make([]byte, 1)); time.Sleep(5 * time.Second) })
		},
			noAPI + "what listens on {socket} did not answer within 300ms (SPIFFE_ENDPOINT_SOCKET names it): is it a SPIRE agent's socket?", ErrNoWorkloadAPI},
		{"another gRPC service", func(t *testing.T) string {
			p := filepath.Join(socketDir(t), "api.sock")
			l, err := net.Listen("unix", p)
			if err != nil {
				t.Fatal(err)
			}
			srv := grpc.NewServer()
			go srv.Serve(l)
			t.Cleanup(srv.Stop)
			return p
		}, noAPI + "what listens on {socket} is not a SPIFFE Workload API: it answered Unimplemented: unknown service SpiffeWorkloadAPI", ErrNoWorkloadAPI},
		{"agent hangs", func(t *testing.T) string {
			release := make(chan struct{})
			p := testspiffe.Start(t, func(string) (string, error) { <-release; return "", nil })
			t.Cleanup(func() { close(release) }) // before the server stops
			return p
		}, noAPI + "the Workload API at {socket} did not answer within 300ms", ErrNoWorkloadAPI},
		{"no registration entry", answer("", testspiffe.ErrNoIdentity),
			"oauth: spiffe: the Workload API issued no JWT-SVID: the agent at {socket} answered PermissionDenied: no identity issued (no registration entry matches this process)", ErrNoSVID},
		{"no SVIDs", answer("", nil), "oauth: spiffe: the Workload API issued no JWT-SVID: the Workload API at {socket} answered with none", ErrNoSVID},
		{"other refusal", answer("", status.Error(codes.Unavailable, "could not fetch JWT-SVID: \x1b[31mserver down")),
			`oauth: spiffe: the Workload API at {socket} answered Unavailable: could not fetch JWT-SVID: \x1b[31mserver down`, nil},
		{"not a JWT", answer("not a token", nil),
			"oauth: spiffe: the Workload API's JWT-SVID: identity token is not a JWT: want 3 dot-separated parts, got 1", ErrNotJWT},
		{"other audience", answer(s.sign(t, spiffeClaims(testspiffe.SPIFFEID, "sts.amazonaws.com", future)), nil),
			`oauth: spiffe: the Workload API's JWT-SVID is for audience sts.amazonaws.com, not the "sigstore" that was asked for`, nil},
		{"expired", answer(s.sign(t, spiffeClaims(testspiffe.SPIFFEID, "sigstore", time.Now().Add(-time.Minute))), nil),
			"oauth: spiffe: the Workload API's JWT-SVID: identity token from https://oidc-discovery.example.test expired at ", nil},
		{"subject not a SPIFFE ID", answer(s.sign(t, spiffeClaims("signer@example.test", "sigstore", future)), nil),
			"oauth: spiffe: the Workload API's JWT-SVID has the subject signer@example.test, which is not a SPIFFE ID", nil},
		{"TCP address", func(*testing.T) string { return "tcp://127.0.0.1:8081" },
			"oauth: spiffe: SPIFFE_ENDPOINT_SOCKET is tcp://127.0.0.1:8081, a TCP address: gitsign asks the Workload API on a unix socket only (a path, or unix:///path)", nil},
		{"relative unix URI", func(*testing.T) string { return "unix:agent.sock" },
			"oauth: spiffe: SPIFFE_ENDPOINT_SOCKET must be a socket's path or a unix:///path URI, got unix:agent.sock", nil},
		{"unix URI with a host", func(*testing.T) string { return "unix://tmp/agent.sock" },
			"oauth: spiffe: SPIFFE_ENDPOINT_SOCKET must be a socket's path or a unix:///path URI, got unix://tmp/agent.sock", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			socket := tc.socket(t)
			start := time.Now()
			tok, err := Get(context.Background(), Options{Provider: "spiffe", Timeout: timeout, LookupEnv: spiffeEnv(socket)})
			if err == nil {
				t.Fatalf("got %v", tok)
			}
			t.Log(err)
			want := strings.NewReplacer("{socket}", displayString(socket), "{path}", displayString(strings.TrimPrefix(socket, "unix://"))).Replace(tc.want)
			var se *SourceError
			if !errors.As(err, &se) || se.Provider != "spiffe" || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q\nwant %q", err, want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %q", err, tc.is)
			}
			if strings.Contains(err.Error(), "eyJ") {
				t.Errorf("error shows a token: %q", err)
			}
			if strings.ContainsAny(err.Error(), "\n\x1b") {
				t.Errorf("error is not one plain line: %q", err)
			}
			if d := time.Since(start); d > timeout+2*time.Second {
				t.Errorf("took %s with a timeout of %s", d, timeout)
			}
		})
	}
}

// serveRaw listens on a new socket and hands each connection to serve,
// closing it when serve returns.
func serveRaw(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	p := filepath.Join(socketDir(t), "api.sock")
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); serve(c) }()
		}
	}()
	return p
}

// TestSPIFFECancelled: a cancelled sign (Ctrl-C) ends the wait for the
// agent at once, with the cause.
func TestSPIFFECancelled(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	socket := testspiffe.Start(t, func(string) (string, error) { <-release; return "", nil })
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(100*time.Millisecond, func() { cancel(errors.New("interrupted")) })
	start := time.Now()
	_, err := Get(ctx, Options{Provider: "spiffe", LookupEnv: spiffeEnv(socket)})
	if err == nil || err.Error() != "oauth: spiffe: asking the Workload API at "+socket+": interrupted" {
		t.Errorf("%v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestSPIFFEDefaultTimeout: with no Options.Timeout the request is still
// bounded (10 seconds).
func TestSPIFFEDefaultTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 10 seconds")
	}
	t.Parallel()
	socket := serveRaw(t, func(c net.Conn) { c.Read(make([]byte, 1)); time.Sleep(15 * time.Second) })
	start := time.Now()
	_, err := Get(context.Background(), Options{Provider: "spiffe", LookupEnv: spiffeEnv(socket)})
	if d := time.Since(start); !errors.Is(err, ErrNoWorkloadAPI) || !strings.Contains(err.Error(), "did not answer within 10s") || d > 12*time.Second {
		t.Errorf("after %s: %v", d, err)
	}
}

// TestSPIFFESocketPermission: a socket this user may not connect to.
func TestSPIFFESocketPermission(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root connects to any socket")
	}
	socket := testspiffe.Start(t, func(string) (string, error) { return "", nil })
	if err := os.Chmod(socket, 0); err != nil {
		t.Fatal(err)
	}
	_, err := Get(context.Background(), Options{Provider: "spiffe", Timeout: time.Second, LookupEnv: spiffeEnv(socket)})
	want := "oauth: spiffe: cannot connect to the Workload API socket " + socket + " (SPIFFE_ENDPOINT_SOCKET names it): permission denied: the socket does not let this user in"
	if err == nil || err.Error() != want {
		t.Errorf("%v\nwant %s", err, want)
	}
}
