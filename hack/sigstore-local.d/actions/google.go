package main

// This file is the Google-shaped issuer: a stand-in for
// https://accounts.google.com as it signs a service account's identity
// tokens (what the GCE/GKE metadata server and the IAM Credentials API's
// generateIdToken hand out). Fulcio names it an email issuer, as the
// public instance does Google, so the certificate's SAN is the service
// account's email. It only mints: the metadata server and IAM stand-ins
// are the tests' own, and ask it for the tokens they return.
//
// Endpoints (besides discovery, its keys at /oauth2/v3/certs as Google's
// are, and /healthz): GET /mint?PARAMS answers {"value": JWT}. PARAMS (all
// optional): email (default gitsign@acme-ci.iam.gserviceaccount.com),
// audience (sigstore), format (full, with email, email_verified and the
// google.compute_engine claim, what gitsign asks the metadata server for;
// or standard: aud, azp, exp, iat, iss, sub only), email_verified (true;
// false for a token Fulcio must refuse) and ttl (seconds, 3600). sub and
// azp are a 21-digit number derived from the email.

import (
	"fmt"
	"hash/fnv"
	"log"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const googleDefaultTTL = time.Hour // Google's identity tokens live an hour

// googleClaims are a service account's identity token claims, in Google's
// (alphabetical) order. Email, EmailVerified and Google are in the "full"
// format only.
type googleClaims struct {
	Aud           string        `json:"aud"`
	Azp           string        `json:"azp"`
	Email         string        `json:"email,omitempty"`
	EmailVerified *bool         `json:"email_verified,omitempty"`
	Exp           int64         `json:"exp"`
	Google        *googleDetail `json:"google,omitempty"`
	Iat           int64         `json:"iat"`
	Iss           string        `json:"iss"`
	Sub           string        `json:"sub"`
}

// googleDetail is the "google" claim of a Compute Engine token in the full
// format.
type googleDetail struct {
	ComputeEngine struct {
		InstanceCreationTimestamp int64  `json:"instance_creation_timestamp"`
		InstanceID                string `json:"instance_id"`
		InstanceName              string `json:"instance_name"`
		ProjectID                 string `json:"project_id"`
		ProjectNumber             int64  `json:"project_number"`
		Zone                      string `json:"zone"`
	} `json:"compute_engine"`
}

var emailRE = regexp.MustCompile(`^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$`)

var googleParams = map[string]bool{"email": true, "audience": true, "format": true, "email_verified": true, "ttl": true}

type googleIssuer struct {
	key    *signingKey
	now    func() time.Time
	logger *log.Logger
}

func newGoogleIssuer(issuerURL string, logger *log.Logger) (*googleIssuer, error) {
	key, err := newSigningKey(issuerURL, "RS256")
	if err != nil {
		return nil, err
	}
	return &googleIssuer{key: key, now: time.Now, logger: logger}, nil
}

// googleNumber is a stable stand-in for a number Google gives a name
// (a service account's 21-digit unique ID, an instance ID, a project
// number), so that one name always has one number.
func googleNumber(kind, name string, digits int) string {
	var s string
	for i := 0; len(s) < digits-1; i++ {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s\x00%s\x00%d", kind, strings.ToLower(name), i)
		s += fmt.Sprintf("%019d", h.Sum64()%10_000_000_000_000_000_000)
	}
	return "1" + s[:digits-1]
}

// projectOf is the project a service account belongs to: NAME@PROJECT.iam.gserviceaccount.com.
func projectOf(email string) string {
	_, domain, _ := strings.Cut(email, "@")
	if p, ok := strings.CutSuffix(domain, ".iam.gserviceaccount.com"); ok && p != "" {
		return p
	}
	return "local-project"
}

// claims reads the token's parameters and returns its claims.
func (g *googleIssuer) claims(v url.Values) (*googleClaims, error) {
	if _, err := checkParams(v, googleParams, nil); err != nil {
		return nil, err
	}
	email := v.Get("email")
	if email == "" {
		email = "gitsign@acme-ci.iam.gserviceaccount.com"
	}
	if !emailRE.MatchString(email) {
		return nil, fmt.Errorf("bad email %q", email)
	}
	aud := "sigstore"
	if v.Has("audience") {
		if aud = v.Get("audience"); aud == "" {
			return nil, fmt.Errorf("empty audience")
		}
	}
	format := v.Get("format")
	if format == "" {
		format = "full"
	}
	if format != "full" && format != "standard" {
		return nil, fmt.Errorf("bad format %q (standard or full)", format)
	}
	verified := true
	switch v.Get("email_verified") {
	case "", "true":
	case "false":
		verified = false
	default:
		return nil, fmt.Errorf("bad email_verified %q (true or false)", v.Get("email_verified"))
	}
	ttl := googleDefaultTTL
	if s := v.Get("ttl"); s != "" {
		d, err := parseTTL(s)
		if err != nil {
			return nil, err
		}
		ttl = d
	}
	now := g.now()
	id := googleNumber("service-account", email, 21)
	c := &googleClaims{Aud: aud, Azp: id, Exp: now.Add(ttl).Unix(), Iat: now.Unix(), Iss: g.key.url, Sub: id}
	if format == "full" {
		c.Email, c.EmailVerified = email, &verified
		project := projectOf(email)
		d := &googleDetail{}
		ce := &d.ComputeEngine
		ce.InstanceCreationTimestamp = now.Add(-time.Hour).Unix()
		ce.InstanceID = googleNumber("instance", project, 19)
		ce.InstanceName = "ci-runner-1"
		ce.ProjectID = project
		ce.ProjectNumber, _ = strconv.ParseInt(googleNumber("project", project, 12), 10, 64)
		ce.Zone = "europe-west1-b"
		c.Google = d
	}
	return c, nil
}

func (g *googleIssuer) handler() http.Handler {
	mux := http.NewServeMux()
	g.key.publish(mux, "/oauth2/v3/certs", []string{"aud", "email", "email_verified", "exp", "iat", "iss", "sub", "azp"}, nil)
	mux.HandleFunc("/mint", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		v, err := params(r)
		var c *googleClaims
		if err == nil {
			c, err = g.claims(v)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		tok, err := g.key.sign(c)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		g.logger.Printf("google: minted sub=%s email=%s aud=%s exp=%d", c.Sub, c.Email, c.Aud, c.Exp)
		writeJSON(w, http.StatusOK, map[string]string{"value": tok})
	})
	return mux
}
