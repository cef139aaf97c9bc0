package main

// This file is the SPIFFE-shaped issuer: JWT-SVIDs as a SPIRE server
// signs them (ES256; sub the workload's SPIFFE ID, aud a list), with the
// discovery document and keys (/keys) SPIRE's OIDC discovery provider
// serves, so that Fulcio (issuer type spiffe, with the trust domain)
// accepts them and names the SPIFFE ID as the certificate's URI SAN. It
// only mints: a Workload API stand-in is a test's own, and asks it for the
// SVIDs it hands out.
//
// GET /mint?PARAMS answers {"value": JWT}. PARAMS (all optional):
// spiffe_id (default spiffe://TRUST-DOMAIN/ns/ci/sa/signer; any trust
// domain, so that a test can have one Fulcio refuses), audience (sigstore)
// and ttl (seconds, 300, SPIRE's default).

import (
	"fmt"
	"log"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

const spiffeDefaultTTL = 5 * time.Minute // SPIRE's default JWT-SVID lifetime

// svidClaims are a JWT-SVID's claims.
type svidClaims struct {
	Aud []string `json:"aud"`
	Exp int64    `json:"exp"`
	Iat int64    `json:"iat"`
	Iss string   `json:"iss"`
	Sub string   `json:"sub"`
}

// spiffeIDRE is a SPIFFE ID as the SPIFFE standard allows it: a trust
// domain of lower-case letters, digits, dots, dashes and underscores, and
// a path of non-empty segments of letters, digits, dots, dashes and
// underscores (not "." or "..").
var spiffeIDRE = regexp.MustCompile(`^spiffe://[a-z0-9._-]{1,255}(/[A-Za-z0-9._-]+)*$`)

var spiffeParams = map[string]bool{"spiffe_id": true, "audience": true, "ttl": true}

type spiffeIssuer struct {
	key         *signingKey
	trustDomain string
	now         func() time.Time
	logger      *log.Logger
}

func newSpiffeIssuer(issuerURL, trustDomain string, logger *log.Logger) (*spiffeIssuer, error) {
	if !spiffeIDRE.MatchString("spiffe://" + trustDomain) {
		return nil, fmt.Errorf("bad trust domain %q", trustDomain)
	}
	key, err := newSigningKey(issuerURL, "ES256")
	if err != nil {
		return nil, err
	}
	return &spiffeIssuer{key: key, trustDomain: trustDomain, now: time.Now, logger: logger}, nil
}

// validSpiffeID reports whether id is a SPIFFE ID (any trust domain: a
// test may ask for one Fulcio must refuse).
func validSpiffeID(id string) bool {
	if !spiffeIDRE.MatchString(id) {
		return false
	}
	for _, seg := range strings.Split(strings.TrimPrefix(id, "spiffe://"), "/")[1:] {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// claims reads the SVID's parameters and returns its claims.
func (s *spiffeIssuer) claims(v url.Values) (*svidClaims, error) {
	if _, err := checkParams(v, spiffeParams, nil); err != nil {
		return nil, err
	}
	id := v.Get("spiffe_id")
	if id == "" {
		id = "spiffe://" + s.trustDomain + "/ns/ci/sa/signer"
	}
	if !validSpiffeID(id) {
		return nil, fmt.Errorf("bad spiffe_id %q (spiffe://TRUST-DOMAIN/PATH)", id)
	}
	aud := "sigstore"
	if v.Has("audience") {
		if aud = v.Get("audience"); aud == "" {
			return nil, fmt.Errorf("empty audience")
		}
	}
	ttl := spiffeDefaultTTL
	if t := v.Get("ttl"); t != "" {
		d, err := parseTTL(t)
		if err != nil {
			return nil, err
		}
		ttl = d
	}
	now := s.now()
	return &svidClaims{Aud: []string{aud}, Exp: now.Add(ttl).Unix(), Iat: now.Unix(), Iss: s.key.url, Sub: id}, nil
}

func (s *spiffeIssuer) handler() http.Handler {
	mux := http.NewServeMux()
	s.key.publish(mux, "/keys", []string{"sub", "aud", "exp", "iat", "iss"}, map[string]any{
		"authorization_endpoint":                "",
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "ES384"},
	})
	mux.HandleFunc("/mint", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		v, err := params(r)
		var c *svidClaims
		if err == nil {
			c, err = s.claims(v)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		tok, err := s.key.sign(c)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		s.logger.Printf("spiffe: minted sub=%s aud=%s exp=%d", c.Sub, c.Aud[0], c.Exp)
		writeJSON(w, http.StatusOK, map[string]string{"value": tok})
	})
	return mux
}
