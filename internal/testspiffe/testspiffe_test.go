package testspiffe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// jwtSVID mints an ES256 JWT-SVID for SPIFFEID and audience.
func jwtSVID(t *testing.T, audience string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	in := enc(map[string]string{"alg": "ES256", "typ": "JWT", "kid": "k1"}) + "." +
		enc(map[string]any{"iss": "https://oidc.example.test", "sub": SPIFFEID, "aud": []string{audience}, "exp": time.Now().Add(5 * time.Minute).Unix()})
	sum := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestGoSPIFFEClient: go-spiffe's own Workload API client, the one the
// reference uses, gets the JWT-SVID from the stand-in, and the stand-in
// saw the request it makes.
func TestGoSPIFFEClient(t *testing.T) {
	var token atomic.Value
	s := StartServer(t, func(aud string) (string, error) {
		tok := jwtSVID(t, aud)
		token.Store(tok)
		return tok, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := workloadapi.New(ctx, workloadapi.WithAddr("unix://"+s.SocketPath))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	svid, err := c.FetchJWTSVID(ctx, jwtsvid.Params{Audience: "sigstore"})
	if err != nil {
		t.Fatal(err)
	}
	if svid.Marshal() != token.Load() || svid.ID.String() != SPIFFEID || !slices.Equal(svid.Audience, []string{"sigstore"}) {
		t.Errorf("got %s for %v", svid.ID, svid.Audience)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || !slices.Equal(reqs[0].Audience, []string{"sigstore"}) || reqs[0].SpiffeID != "" || !slices.Equal(reqs[0].Header, []string{"true"}) {
		t.Errorf("requests %+v", reqs)
	}

	// A refusal reaches the client with its code.
	s2 := Start(t, func(string) (string, error) { return "", ErrNoIdentity })
	c2, err := workloadapi.New(ctx, workloadapi.WithAddr("unix://"+s2))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_, err = c2.FetchJWTSVID(ctx, jwtsvid.Params{Audience: "sigstore"})
	if st := status.Convert(err); st.Code() != codes.PermissionDenied || st.Message() != "no identity issued" {
		t.Errorf("refusal: %v", err)
	}
}

// TestRefusals: what a SPIRE agent refuses, the stand-in refuses, before
// Mint is asked.
func TestRefusals(t *testing.T) {
	var minted atomic.Int32
	path := Start(t, func(string) (string, error) { minted.Add(1); return "x.y.z", nil })
	conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := workload.NewSpiffeWorkloadAPIClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name   string
		header []string
		aud    []string
		code   codes.Code
		msg    string
	}{
		{"no header", nil, []string{"sigstore"}, codes.InvalidArgument, "security header missing from request"},
		{"header false", []string{"false"}, []string{"sigstore"}, codes.InvalidArgument, "security header missing from request"},
		{"header twice", []string{"true", "true"}, []string{"sigstore"}, codes.InvalidArgument, "security header missing from request"},
		{"no audience", []string{"true"}, nil, codes.InvalidArgument, "audience must be specified"},
		{"answered", []string{"true"}, []string{"sigstore"}, codes.OK, ""},
	} {
		rctx := ctx
		for _, v := range tc.header {
			rctx = metadata.AppendToOutgoingContext(rctx, SecurityHeader, v)
		}
		resp, err := client.FetchJWTSVID(rctx, &workload.JWTSVIDRequest{Audience: tc.aud})
		if st := status.Convert(err); st.Code() != tc.code || st.Message() != tc.msg {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err == nil && (len(resp.Svids) != 1 || resp.Svids[0].Svid != "x.y.z" || resp.Svids[0].SpiffeId != SPIFFEID) {
			t.Errorf("%s: %v", tc.name, resp)
		}
	}
	if n := minted.Load(); n != 1 {
		t.Errorf("minted %d times, want 1", n)
	}
	if _, err := client.ValidateJWTSVID(metadata.AppendToOutgoingContext(ctx, SecurityHeader, "true"), &workload.ValidateJWTSVIDRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("ValidateJWTSVID: %v", err)
	}
}

func TestMintAnswers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, SecurityHeader, SecurityHeaderValue)
	for _, tc := range []struct {
		name  string
		token string
		err   error
		code  codes.Code
		svids int
	}{
		{"no SVIDs", "", nil, codes.OK, 0},
		{"status error", "", status.Error(codes.Unavailable, "could not fetch JWT-SVID"), codes.Unavailable, 0},
		{"other error", "", errors.New("boom"), codes.Internal, 0},
	} {
		path := Start(t, func(string) (string, error) { return tc.token, tc.err })
		conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := workload.NewSpiffeWorkloadAPIClient(conn).FetchJWTSVID(ctx, &workload.JWTSVIDRequest{Audience: []string{"a"}})
		if status.Code(err) != tc.code || len(resp.GetSvids()) != tc.svids {
			t.Errorf("%s: %v, %v", tc.name, resp, err)
		}
		conn.Close()
	}
}

func TestCloseRemovesSocket(t *testing.T) {
	dir, err := SocketDir()
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := Serve(dir+"/api.sock", func(string) (string, error) { return "", nil })
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(s.SocketPath); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("%v, %v", fi, err)
	}
	s.Close()
	if _, err := os.Stat(s.SocketPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
}
