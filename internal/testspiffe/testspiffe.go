// Package testspiffe is a stand-in for the SPIFFE Workload API of a SPIRE
// agent, for tests of the spiffe token provider: a gRPC server on a unix
// socket that serves SpiffeWorkloadAPI's FetchJWTSVID as the agent does.
// Like the agent, it refuses a request without the `workload.spiffe.io:
// true` metadata header (InvalidArgument, "security header missing from
// request") and one that names no audience (InvalidArgument, "audience
// must be specified"), and it answers with a JWT-SVID minted for the
// audience asked for, by the test's Mint. The other methods of the
// service answer Unimplemented.
//
// It is test support only: import it from _test.go files, never from
// code that ships.
package testspiffe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Mint returns the JWT-SVID for a request: audience is the first
// audience asked for (gitsign asks for one). An error made with
// [status.Error] is the answer as it is, with its code (see
// ErrNoIdentity); any other error answers Internal. An empty token and a
// nil error answer with an empty list of SVIDs.
type Mint func(audience string) (string, error)

// ErrNoIdentity is what a SPIRE agent answers a workload that no
// registration entry matches: PermissionDenied, "no identity issued".
// Returned by a Mint, it is the answer.
var ErrNoIdentity = status.Error(codes.PermissionDenied, "no identity issued")

// SecurityHeader is the metadata header, and its value, that every
// Workload API request must carry.
const SecurityHeader, SecurityHeaderValue = "workload.spiffe.io", "true"

// SPIFFEID is the spiffe_id the stand-in gives each JWT-SVID it returns.
const SPIFFEID = "spiffe://example.test/ci/signer"

// Request is a FetchJWTSVID request the stand-in received.
type Request struct {
	Audience []string
	SpiffeID string
	// Header is what the workload.spiffe.io header held (nil when absent).
	Header []string
}

// Server is a stand-in Workload API serving on a unix socket.
type Server struct {
	// SocketPath is the socket it listens on.
	SocketPath string

	mint Mint
	srv  *grpc.Server
	done chan struct{}

	mu       sync.Mutex
	requests []Request
}

// Start serves a stand-in Workload API on a socket in a new temporary
// directory, minting with mint, until the test ends, and returns the
// socket's path (SPIFFE_ENDPOINT_SOCKET takes it as it is).
func Start(t testing.TB, mint Mint) (socketPath string) {
	t.Helper()
	return StartServer(t, mint).SocketPath
}

// StartServer is Start returning the Server, whose Requests a test can
// read.
func StartServer(t testing.TB, mint Mint) *Server {
	t.Helper()
	dir, err := SocketDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s, err := Serve(filepath.Join(dir, "api.sock"), mint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// SocketDir makes a new temporary directory short enough to hold a unix
// socket (whose path may not be longer than about 100 bytes) and that
// only its owner can enter, as a SPIRE agent's socket directory.
// The caller removes it.
func SocketDir() (string, error) {
	dir, err := os.MkdirTemp("", "spiffe")
	if err == nil && len(dir) > 80 {
		os.RemoveAll(dir)
		dir, err = os.MkdirTemp("/tmp", "spiffe")
	}
	return dir, err
}

// Serve serves a stand-in Workload API on a new unix socket at path
// until Close.
func Serve(path string, mint Mint) (*Server, error) {
	if mint == nil {
		return nil, errors.New("testspiffe: no Mint")
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("testspiffe: %w", err)
	}
	s := &Server{SocketPath: path, mint: mint, srv: grpc.NewServer(), done: make(chan struct{})}
	workload.RegisterSpiffeWorkloadAPIServer(s.srv, &api{s: s})
	go func() {
		defer close(s.done)
		s.srv.Serve(l) //nolint:errcheck // Stop ends it
	}()
	return s, nil
}

// Close stops the server at once, ending any request it is answering,
// and removes its socket.
func (s *Server) Close() {
	s.srv.Stop()
	<-s.done
	os.Remove(s.SocketPath)
}

// Requests returns the FetchJWTSVID requests received so far, refused
// ones included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

type api struct {
	workload.UnimplementedSpiffeWorkloadAPIServer
	s *Server
}

func (a *api) FetchJWTSVID(ctx context.Context, req *workload.JWTSVIDRequest) (*workload.JWTSVIDResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	header := md.Get(SecurityHeader)
	a.s.mu.Lock()
	a.s.requests = append(a.s.requests, Request{Audience: req.GetAudience(), SpiffeID: req.GetSpiffeId(), Header: header})
	a.s.mu.Unlock()
	// SPIRE's check: the header exactly once, with the value true.
	if len(header) != 1 || header[0] != SecurityHeaderValue {
		return nil, status.Error(codes.InvalidArgument, "security header missing from request")
	}
	if len(req.GetAudience()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "audience must be specified")
	}
	token, err := a.s.mint(req.GetAudience()[0])
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		return nil, status.Error(codes.Internal, err.Error())
	}
	resp := &workload.JWTSVIDResponse{}
	if token != "" {
		resp.Svids = []*workload.JWTSVID{{SpiffeId: SPIFFEID, Svid: token}}
	}
	return resp, nil
}
