package certinfo

import (
	"testing"

	"github.com/gitsign-dev/gitsign/internal/testcert"
)

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		emails, uris         []string
		issuer               string
		wantID, wantIssuer   string
		wantDescribeContains string
	}{
		{"email", []string{"a@example.com"}, nil, "https://issuer.example", "a@example.com", "https://issuer.example", "a@example.com (issuer https://issuer.example)"},
		{"URI first", []string{"a@example.com"}, []string{"https://ci.example/wf@refs/heads/main"}, "https://ci.example", "https://ci.example/wf@refs/heads/main", "https://ci.example", ""},
		{"no issuer", []string{"b@example.com"}, nil, "", "b@example.com", Unknown, "b@example.com (issuer (unknown))"},
		// A look-alike letter shows: a Cyrillic а in place of a Latin a
		// (the issuer is a UTF8String; a SAN is IA5String, ASCII only).
		{"not ASCII", []string{"a@example.com"}, nil, "https://\u0430ccounts.example", "a@example.com", "https://\u0430ccounts.example", `a@example.com (issuer https://\u0430ccounts.example)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, _ := testcert.New(t, testcert.Options{Emails: tc.emails, URIs: tc.uris, Issuer: tc.issuer})
			id, iss := Names(cert)
			if id != tc.wantID || iss != tc.wantIssuer {
				t.Errorf("Names = %q, %q; want %q, %q", id, iss, tc.wantID, tc.wantIssuer)
			}
			if tc.wantDescribeContains != "" && Describe(cert) != tc.wantDescribeContains {
				t.Errorf("Describe = %q; want %q", Describe(cert), tc.wantDescribeContains)
			}
		})
	}
	if id, iss := Names(nil); id != Unknown || iss != Unknown {
		t.Errorf("Names(nil) = %q, %q", id, iss)
	}
	if Describe(nil) != "an unknown signer" {
		t.Errorf("Describe(nil) = %q", Describe(nil))
	}
}
