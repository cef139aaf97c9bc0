package oauth

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseUnverifiedGood(t *testing.T) {
	s := newSigner(t)
	exp := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	for _, tc := range []struct {
		name        string
		claims      map[string]any
		subject     string
		email       string
		wantExpNano int
	}{
		{"email wins", map[string]any{"iss": "https://issuer.example", "sub": "1234", "email": "alice@example.com", "exp": exp.Unix()}, "alice@example.com", "alice@example.com", 0},
		{"sub without email", map[string]any{"iss": "https://issuer.example", "sub": "repo:o/r:ref:refs/heads/main", "exp": exp.Unix()}, "repo:o/r:ref:refs/heads/main", "", 0},
		{"fractional exp", map[string]any{"iss": "https://issuer.example", "sub": "x", "exp": float64(exp.Unix()) + 0.5}, "x", "", 5e8},
		{"audience array and extra claims", map[string]any{"iss": "https://issuer.example", "sub": "x", "aud": []string{"a", "b"}, "exp": exp.Unix(), "groups": []int{1}}, "x", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := s.sign(t, tc.claims)
			tok, err := ParseUnverified(raw)
			if err != nil {
				t.Fatalf("ParseUnverified: %v", err)
			}
			if tok.Raw != raw || tok.Issuer != "https://issuer.example" || tok.Subject != tc.subject || tok.Email != tc.email {
				t.Errorf("got %+v", *tok)
			}
			if tc.name == "audience array and extra claims" && strings.Join(tok.Audience, ",") != "a,b" {
				t.Errorf("Audience = %q", tok.Audience)
			}
			if want := exp.Add(time.Duration(tc.wantExpNano)); !tok.Expiry.Equal(want) {
				t.Errorf("Expiry = %v, want %v", tok.Expiry, want)
			}
		})
	}
}

func TestParseUnverifiedExpired(t *testing.T) {
	s := newSigner(t)
	exp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	raw := s.sign(t, map[string]any{"iss": "https://issuer.example", "sub": "x", "exp": exp.Unix()})

	_, err := parseUnverified(raw, exp.Add(90*time.Second))
	const want = "identity token from https://issuer.example expired at 2026-01-02T03:04:05Z (90 seconds ago)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	var ee *ExpiredError
	if !errors.As(err, &ee) || !ee.Expiry.Equal(exp) {
		t.Fatalf("err is not an *ExpiredError with the expiry: %#v", err)
	}
	// exp == now is already expired.
	if _, err := parseUnverified(raw, exp); !errors.As(err, &ee) {
		t.Errorf("token at its exp instant accepted: %v", err)
	}
	// The public entry point uses the clock.
	_, err = ParseUnverified(raw)
	if err == nil || !regexp.MustCompile(`^identity token from https://issuer\.example expired at 2026-01-02T03:04:05Z \(\d+ (seconds|minutes|hours|days) ago\)$`).MatchString(err.Error()) {
		t.Errorf("ParseUnverified: %v", err)
	}
	if strings.Contains(err.Error(), raw) {
		t.Error("error contains the raw token")
	}
}

func TestParseUnverifiedHostileIssuerIsQuoted(t *testing.T) {
	s := newSigner(t)
	raw := s.sign(t, map[string]any{"iss": "https://x\n[GNUPG:] GOODSIG", "sub": "x", "exp": 1000})
	_, err := ParseUnverified(raw)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), `"https://x\n[GNUPG:] GOODSIG"`) {
		t.Fatalf("issuer not quoted in %q", err)
	}
}

func TestParseUnverifiedGarbage(t *testing.T) {
	s := newSigner(t)
	good := s.sign(t, map[string]any{"iss": "https://i", "sub": "x", "exp": time.Now().Add(time.Hour).Unix()})
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding.EncodeToString
	for name, raw := range map[string]string{
		"empty":               "",
		"word":                "hunter2",
		"two parts":           parts[0] + "." + parts[1],
		"four parts":          good + ".x",
		"JWE-like five parts": "a.b.c.d.e",
		"header not base64":   "!!!." + parts[1] + "." + parts[2],
		"header not JSON":     enc([]byte("nope")) + "." + parts[1] + "." + parts[2],
		"header without alg":  enc([]byte(`{"typ":"JWT"}`)) + "." + parts[1] + "." + parts[2],
		"payload not base64":  parts[0] + ".%%%." + parts[2],
		"payload padded":      parts[0] + "." + parts[1] + "==." + parts[2],
		"payload not JSON":    parts[0] + "." + enc([]byte("secret-ish")) + "." + parts[2],
		"payload an array":    parts[0] + "." + enc([]byte(`["iss"]`)) + "." + parts[2],
		"iss not a string":    parts[0] + "." + enc([]byte(`{"iss":1,"sub":"x","exp":9999999999}`)) + "." + parts[2],
		"empty signature":     parts[0] + "." + parts[1] + ".",
		"signature not b64":   parts[0] + "." + parts[1] + ".***",
		"too long":            parts[0] + "." + strings.Repeat("A", maxTokenLen) + "." + parts[2],
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := ParseUnverified(raw)
			if !errors.Is(err, ErrNotJWT) {
				t.Fatalf("got %v, %v; want ErrNotJWT", tok, err)
			}
			if !strings.HasPrefix(err.Error(), "identity token is not a JWT") {
				t.Errorf("message %q", err)
			}
			if len(raw) > 0 && strings.Contains(err.Error(), raw) {
				t.Errorf("error echoes the input: %q", err)
			}
		})
	}
}

func TestParseUnverifiedMissingClaims(t *testing.T) {
	s := newSigner(t)
	future := time.Now().Add(time.Hour).Unix()
	for _, tc := range []struct {
		name, claim, problem string
		claims               map[string]any
	}{
		{"no iss", "iss", "has no", map[string]any{"sub": "x", "exp": future}},
		{"empty iss", "iss", "has no", map[string]any{"iss": "", "sub": "x", "exp": future}},
		{"no exp", "exp", "has no", map[string]any{"iss": "https://i", "sub": "x"}},
		{"no sub or email", "sub", "has no", map[string]any{"iss": "https://i", "exp": future}},
		{"exp a string", "exp", "has an invalid", map[string]any{"iss": "https://i", "sub": "x", "exp": "tomorrow"}},
		{"exp negative", "exp", "has an invalid", map[string]any{"iss": "https://i", "sub": "x", "exp": -5}},
		{"exp absurd", "exp", "has an invalid", map[string]any{"iss": "https://i", "sub": "x", "exp": 1e300}},
		{"aud a number", "aud", "has an invalid", map[string]any{"iss": "https://i", "sub": "x", "exp": future, "aud": 7}},
		{"aud mixed array", "aud", "has an invalid", map[string]any{"iss": "https://i", "sub": "x", "exp": future, "aud": []any{"a", 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseUnverified(s.sign(t, tc.claims))
			var ce *ClaimError
			if !errors.As(err, &ce) || ce.Claim != tc.claim || ce.Problem != tc.problem {
				t.Fatalf("err = %v, want ClaimError{%s, %s}", err, tc.claim, tc.problem)
			}
			if !strings.Contains(err.Error(), `"`+tc.claim+`"`) {
				t.Errorf("message %q does not name the claim", err)
			}
		})
	}
}

// FuzzParseUnverified checks that every outcome is well formed: a success
// carries the required claims and an unexpired exp; a failure is one of
// the package's typed errors, with a bounded message (so it cannot carry a
// token of any real size).
func FuzzParseUnverified(f *testing.F) {
	s := newSigner(f)
	f.Add(s.sign(f, map[string]any{"iss": "https://i", "sub": "x", "exp": 4102444800}))
	f.Add(s.sign(f, map[string]any{"iss": "https://i", "email": "a@b", "exp": 1}))
	f.Add(s.sign(f, map[string]any{"iss": "https://i", "exp": 4102444800.5}))
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		now := time.Now()
		tok, err := parseUnverified(raw, now)
		if err == nil {
			if tok.Raw != raw || tok.Issuer == "" || tok.Subject == "" || !tok.Expiry.After(now) {
				t.Fatalf("accepted token with %+v", *tok)
			}
			if tok.Email != "" && tok.Subject != tok.Email {
				t.Fatalf("subject %q is not the email %q", tok.Subject, tok.Email)
			}
			return
		}
		var ce *ClaimError
		var ee *ExpiredError
		if !errors.Is(err, ErrNotJWT) && !errors.As(err, &ce) && !errors.As(err, &ee) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if n := len(err.Error()); n > 600 {
			t.Fatalf("error message of %d bytes", n)
		}
	})
}

func TestRoughly(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0 seconds", 90 * time.Second: "90 seconds", 5 * time.Minute: "5 minutes",
		3 * time.Hour: "3 hours", 96399688 * time.Second: "1115 days",
	} {
		if got := roughly(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}
