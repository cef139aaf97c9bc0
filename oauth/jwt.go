package oauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrNotJWT is returned (possibly wrapped) by ParseUnverified for input that
// is not a compact JWS JWT. Its messages never quote the input.
var ErrNotJWT = errors.New("identity token is not a JWT")

// maxTokenLen bounds what ParseUnverified and the static providers accept.
// Real ID tokens are a few KiB.
const maxTokenLen = 64 << 10

// ExpiredError reports an identity token whose exp claim has passed.
type ExpiredError struct {
	Issuer string
	Expiry time.Time
	Now    time.Time
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("identity token from %s expired at %s (%s ago)", displayString(e.Issuer), e.Expiry.UTC().Format(time.RFC3339), roughly(e.Now.Sub(e.Expiry)))
}

// roughly says d for a person: in the largest unit that keeps at least
// two of it ("90 seconds", "5 minutes", "3 hours", "1115 days").
func roughly(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return fmt.Sprintf("%d seconds", int64(d/time.Second))
	case d < 2*time.Hour:
		return fmt.Sprintf("%d minutes", int64(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int64(d/time.Hour))
	}
	return fmt.Sprintf("%d days", int64(d/(24*time.Hour)))
}

// ClaimError reports a required claim that is absent, empty or malformed.
type ClaimError struct {
	Claim   string
	Problem string // "has no" or "has an invalid"
}

func (e *ClaimError) Error() string {
	return fmt.Sprintf("identity token %s %q claim", e.Problem, e.Claim)
}

func missingClaim(name string) error { return &ClaimError{Claim: name, Problem: "has no"} }

// claims are the JWT claims gitsign reads.
type claims struct {
	Issuer        string          `json:"iss"`
	Subject       string          `json:"sub"`
	Expiry        json.RawMessage `json:"exp"`
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
	Audience      json.RawMessage `json:"aud"`
	// Federated is Dex's federated_claims object, read by connector.
	Federated json.RawMessage `json:"federated_claims"`
}

// connector returns the federated_claims.connector_id claim that Dex
// (and so https://oauth2.sigstore.dev/auth) adds, or "" when there is none
// or it is malformed.
func (c *claims) connector() string {
	var f struct {
		ConnectorID string `json:"connector_id"`
	}
	if len(c.Federated) == 0 || json.Unmarshal(c.Federated, &f) != nil {
		return ""
	}
	return f.ConnectorID
}

// ParseUnverified reads the claims of a compact JWT without checking its
// signature: the receiver (Fulcio) verifies it against the issuer's keys.
// It rejects input that is not a JWT (ErrNotJWT); a token without iss,
// exp or a subject (sub or email), or with a malformed exp (*ClaimError);
// and an expired token (*ExpiredError). Subject is the email claim when
// present, otherwise sub.
func ParseUnverified(raw string) (*IDToken, error) {
	return parseUnverified(raw, time.Now())
}

func parseUnverified(raw string, now time.Time) (*IDToken, error) {
	tok, _, err := parseToken(raw, &now)
	return tok, err
}

// parseToken reads raw as ParseUnverified does, with now as the clock; a
// nil now checks no expiry (for when the token's identity, not its
// validity, is wanted). It also returns the claims.
func parseToken(raw string, now *time.Time) (*IDToken, *claims, error) {
	c, err := decodeClaims(raw)
	if err != nil {
		return nil, nil, err
	}
	if c.Issuer == "" {
		return nil, nil, missingClaim("iss")
	}
	if len(c.Expiry) == 0 || string(c.Expiry) == "null" {
		return nil, nil, missingClaim("exp")
	}
	exp, ok := numericDate(c.Expiry)
	if !ok {
		return nil, nil, &ClaimError{Claim: "exp", Problem: "has an invalid"}
	}
	if now != nil && !now.Before(exp) {
		return nil, nil, &ExpiredError{Issuer: c.Issuer, Expiry: exp, Now: *now}
	}
	subject := c.Email
	if subject == "" {
		subject = c.Subject
	}
	if subject == "" {
		return nil, nil, missingClaim("sub")
	}
	aud, ok := audiences(c.Audience)
	if !ok {
		return nil, nil, &ClaimError{Claim: "aud", Problem: "has an invalid"}
	}
	return &IDToken{Raw: raw, Issuer: c.Issuer, Subject: subject, Email: c.Email, Expiry: exp, Audience: aud}, c, nil
}

// audiences reads an aud claim: absent, a string or an array of strings.
func audiences(v json.RawMessage) ([]string, bool) {
	if len(v) == 0 || string(v) == "null" {
		return nil, true
	}
	var one string
	if json.Unmarshal(v, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(v, &many) == nil {
		return many, true
	}
	return nil, false
}

// decodeClaims splits a compact JWS and decodes its header and payload.
// Error messages describe the defect without echoing the input.
func decodeClaims(raw string) (*claims, error) {
	if len(raw) > maxTokenLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrNotJWT, maxTokenLen)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: want 3 dot-separated parts, got %d", ErrNotJWT, len(parts))
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header is not base64url", ErrNotJWT)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(header, &h); err != nil || h.Alg == "" {
		return nil, fmt.Errorf("%w: header is not a JSON object with an \"alg\"", ErrNotJWT)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrNotJWT)
	}
	if parts[2] == "" {
		return nil, fmt.Errorf("%w: signature is empty", ErrNotJWT)
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return nil, fmt.Errorf("%w: signature is not base64url", ErrNotJWT)
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: payload is not a JSON object of string claims", ErrNotJWT)
	}
	return &c, nil
}

// numericDate converts a JWT NumericDate (seconds, possibly fractional).
// n is a JSON value already validated by the decoder, so only a JSON
// number parses.
func numericDate(n json.RawMessage) (time.Time, bool) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f > 1<<40 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// emailVerified accepts true and "true" (some issuers send a string).
func emailVerified(v json.RawMessage) bool {
	s := string(bytes.TrimSpace(v))
	return s == "true" || s == `"true"`
}

// displayString makes an untrusted claim safe to show on a terminal: plain
// printable text is shown as is, anything else quoted, long values cut.
func displayString(s string) string {
	const maxLen = 200
	quote := !utf8.ValidString(s)
	for _, r := range s {
		if !unicode.IsPrint(r) || r == ' ' {
			quote = true
			break
		}
	}
	suffix := ""
	if len(s) > maxLen {
		s, suffix = strings.ToValidUTF8(s[:maxLen], ""), "..."
	}
	if quote {
		return strconv.Quote(s) + suffix
	}
	return s + suffix
}
