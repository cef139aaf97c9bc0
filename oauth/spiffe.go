package oauth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// ProviderSPIFFE asks the SPIFFE Workload API (a SPIRE agent) for a
// JWT-SVID.
const ProviderSPIFFE = "spiffe"

// EnvSPIFFEEndpointSocket names the Workload API's socket: a
// unix:///path URI, as the SPIFFE Workload Endpoint specification and
// SPIFFE's libraries take it, or a path, as the reference (cosign's
// spiffe provider) takes it.
const EnvSPIFFEEndpointSocket = "SPIFFE_ENDPOINT_SOCKET"

// DefaultSPIFFESocket is the socket used when SPIFFE_ENDPOINT_SOCKET is
// not set: where SPIRE's getting-started configuration puts the agent's
// Workload API, and the reference's default.
const DefaultSPIFFESocket = "/tmp/spire-agent/public/api.sock"

// defaultSPIFFETimeout bounds the request when Options.Timeout is zero.
// The agent answers from its cache, or after asking its SPIRE server to
// mint the JWT-SVID.
const defaultSPIFFETimeout = 10 * time.Second

// maxSVIDResponse bounds the Workload API's answer; a JWT-SVID is a few
// KiB (maxTokenLen bounds the token itself).
const maxSVIDResponse = 1 << 20

// ErrNoWorkloadAPI is wrapped when no SPIFFE Workload API answers at the
// socket: there is no socket, nothing listens on it, or what listens is
// not a Workload API.
var ErrNoWorkloadAPI = errors.New("no SPIFFE Workload API")

// ErrNoSVID is wrapped when the Workload API gives this process no
// JWT-SVID: a SPIRE agent refuses a workload that no registration entry
// matches (PermissionDenied, "no identity issued").
var ErrNoSVID = errors.New("the Workload API issued no JWT-SVID")

// spiffeToken asks the SPIFFE Workload API for a JWT-SVID for audience
// o.ClientID (DefaultAudience when empty), the request go-spiffe's
// workloadapi client makes for cosign's spiffe provider, which the
// reference uses: FetchJWTSVID with that one audience and no SPIFFE ID
// (the workload's first identity), with the workload.spiffe.io: true
// header, over a unix socket: SPIFFE_ENDPOINT_SOCKET, else
// DefaultSPIFFESocket. The request is bounded by o.Timeout (10 seconds
// when zero), the connection included.
//
// gitsign calls the service with go-spiffe's generated client rather
// than workloadapi.Client, which checks the JWT-SVID with its own words:
// the token is checked here as the other ambient tokens are (a JWT, not
// expired, for the audience asked for), and, as go-spiffe does, its
// subject must be a SPIFFE ID.
func spiffeToken(ctx context.Context, o *Options) (*IDToken, error) {
	path, where, err := spiffeSocket(o.LookupEnv)
	if err != nil {
		return nil, err
	}
	shown := displayString(path)
	switch fi, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: no socket at %s (%s): is the SPIRE agent running?", ErrNoWorkloadAPI, shown, where)
	case err != nil:
		return nil, fmt.Errorf("cannot reach the Workload API socket %s (%s): %s", shown, where, lastWords(err))
	case fi.Mode().Type() != fs.ModeSocket && runtime.GOOS != "windows": // where a socket may show as a reparse point
		return nil, fmt.Errorf("%w: %s is not a socket (%s)", ErrNoWorkloadAPI, shown, where)
	}
	aud := o.ClientID
	if aud == "" {
		aud = DefaultAudience
	}
	timeout := defaultSPIFFETimeout
	if o.Timeout > 0 {
		timeout = o.Timeout
	}

	var dial dialRecord
	conn, err := grpc.NewClient("passthrough:///spiffe-workload-api",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, "unix", path)
			dial.set(err)
			return c, err
		}),
		grpc.WithAuthority("localhost"), // what gRPC sends for a unix socket
		grpc.WithUserAgent("gitsign"),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxSVIDResponse)),
	)
	if err != nil {
		return nil, fmt.Errorf("the Workload API at %s: %w", shown, err)
	}
	defer conn.Close()

	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cctx = metadata.AppendToOutgoingContext(cctx, "workload.spiffe.io", "true")
	var answered peer.Peer
	done := o.Progress("asking the SPIFFE Workload API for an identity token")
	resp, err := workload.NewSpiffeWorkloadAPIClient(conn).FetchJWTSVID(cctx,
		&workload.JWTSVIDRequest{Audience: []string{aud}}, grpc.Peer(&answered))
	done(err)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("asking the Workload API at %s: %w", shown, context.Cause(ctx))
		}
		// The agent, told the deadline, may end the call a moment
		// before this side's timer does.
		timedOut := cctx.Err() != nil || status.Code(err) == codes.DeadlineExceeded
		return nil, workloadAPIError(err, shown, where, timeout, timedOut, answered.Addr != nil, dial.get())
	}
	if len(resp.GetSvids()) == 0 {
		return nil, fmt.Errorf("%w: the Workload API at %s answered with none", ErrNoSVID, shown)
	}
	raw := resp.GetSvids()[0].GetSvid()
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("%w: the Workload API at %s answered an empty one", ErrNoSVID, shown)
	}
	const what = "the Workload API's JWT-SVID"
	now := time.Now()
	tok, c, err := parseToken(raw, &now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := checkAudience(tok, aud, what); err != nil {
		return nil, err
	}
	if _, err := spiffeid.FromString(c.Subject); err != nil {
		return nil, fmt.Errorf("%s has the subject %s, which is not a SPIFFE ID", what, displayString(c.Subject))
	}
	return tok, nil
}

// spiffeSocket is the path of the Workload API socket, and where it
// comes from, for messages.
func spiffeSocket(lookupEnv func(string) (string, bool)) (path, where string, err error) {
	v, _ := lookupEnv(EnvSPIFFEEndpointSocket)
	v = strings.TrimSpace(v)
	if v == "" {
		return DefaultSPIFFESocket, "the default path; " + EnvSPIFFEEndpointSocket + " names another", nil
	}
	where = EnvSPIFFEEndpointSocket + " names it"
	scheme, _, _ := strings.Cut(v, ":")
	switch strings.ToLower(scheme) {
	case "unix":
		u, err := url.Parse(v)
		if err != nil || u.Opaque != "" || u.Host != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || !strings.HasPrefix(u.Path, "/") {
			return "", "", fmt.Errorf("%s must be a socket's path or a unix:///path URI, got %s", EnvSPIFFEEndpointSocket, displayString(v))
		}
		return u.Path, where, nil
	case "tcp":
		return "", "", fmt.Errorf("%s is %s, a TCP address: gitsign asks the Workload API on a unix socket only (a path, or unix:///path)", EnvSPIFFEEndpointSocket, displayString(v))
	}
	return v, where, nil
}

// workloadAPIError says in one line why the Workload API at path (as
// shown to a person) gave no JWT-SVID. timedOut: the timeout ended the request. answered: the
// request reached a gRPC server (an HTTP/2 stream was opened), so err is
// its answer; otherwise the connection failed, with dialErr when it
// could not even be made.
func workloadAPIError(err error, path, where string, timeout time.Duration, timedOut, answered bool, dialErr error) error {
	st := status.Convert(err)
	msg := displayLine(st.Message())
	switch {
	case timedOut && answered:
		return fmt.Errorf("%w: the Workload API at %s did not answer within %s", ErrNoWorkloadAPI, path, timeout)
	case timedOut:
		return fmt.Errorf("%w: what listens on %s did not answer within %s (%s): is it a SPIRE agent's socket?", ErrNoWorkloadAPI, path, timeout, where)
	case !answered && errors.Is(dialErr, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: nothing listens on the socket %s (%s; a SPIRE agent that stopped leaves it behind): is the SPIRE agent running?", ErrNoWorkloadAPI, path, where)
	case !answered && errors.Is(dialErr, fs.ErrNotExist):
		return fmt.Errorf("%w: no socket at %s (%s): is the SPIRE agent running?", ErrNoWorkloadAPI, path, where)
	case !answered && errors.Is(dialErr, fs.ErrPermission):
		return fmt.Errorf("cannot connect to the Workload API socket %s (%s): permission denied: the socket does not let this user in", path, where)
	case !answered && dialErr != nil:
		return fmt.Errorf("%w: cannot connect to the socket %s (%s): %s", ErrNoWorkloadAPI, path, where, lastWords(dialErr))
	case !answered:
		// Connected, but no HTTP/2 (gRPC) answer: the server preface did
		// not come.
		return fmt.Errorf("%w: what listens on %s does not speak gRPC (%s): %s", ErrNoWorkloadAPI, path, where, displayLine(transportWords(st.Message())))
	case st.Code() == codes.PermissionDenied:
		return fmt.Errorf("%w: the agent at %s answered PermissionDenied: %s (no registration entry matches this process)", ErrNoSVID, path, msg)
	case st.Code() == codes.Unimplemented:
		return fmt.Errorf("%w: what listens on %s is not a SPIFFE Workload API: it answered Unimplemented: %s", ErrNoWorkloadAPI, path, msg)
	}
	return fmt.Errorf("the Workload API at %s answered %s: %s", path, st.Code(), msg)
}

// transportWords is the cause in a gRPC connection error's message,
// without its wrapping: `connection error: desc = "transport: CAUSE"`.
func transportWords(msg string) string {
	if m, ok := strings.CutPrefix(msg, "connection error: desc = "); ok {
		if u, err := strconv.Unquote(m); err == nil {
			msg = u
		}
	}
	return strings.TrimPrefix(msg, "transport: ")
}

// dialRecord keeps the last error of dialing the socket (nil once a
// connection is made); gRPC dials from its own goroutines.
type dialRecord struct {
	mu  sync.Mutex
	err error
}

func (d *dialRecord) set(err error) { d.mu.Lock(); d.err = err; d.mu.Unlock() }
func (d *dialRecord) get() error    { d.mu.Lock(); defer d.mu.Unlock(); return d.err }
