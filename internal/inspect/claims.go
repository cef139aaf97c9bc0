package inspect

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
)

// Claim is one Fulcio extension (1.3.6.1.4.1.57264.1.*) of the signer's
// certificate.
type Claim struct {
	// Name is the allowed-signers option that checks the claim (e.g.
	// "source-repository-uri"). A claim no option can check is named by
	// its dotted OID, so that no name reads as an option the parser would
	// refuse: among them 1.23 (deployment environment) and 1.24 (the OIDC
	// token's subject), which sigstore-go does not read and gitsign
	// verify cannot check.
	Name string
	OID  string
	// Value is the extension's value as sigstore-go reads it; for one
	// sigstore-go does not read, the string it holds if it is a DER
	// string, else "hex:" and its bytes in hex.
	Value string
}

// Claims are a certificate's claims, in OID order.
type Claims []Claim

// Get returns the value of the claim called name and whether it is there.
func (c Claims) Get(name string) (string, bool) {
	for _, cl := range c {
		if cl.Name == name {
			return cl.Value, true
		}
	}
	return "", false
}

// MarshalJSON writes the claims as one JSON object, name to value, in OID
// order ({} when there are none).
func (c Claims) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, cl := range c {
		if i > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(cl.Name)
		if err != nil {
			return nil, err
		}
		value, err := json.Marshal(cl.Value)
		if err != nil {
			return nil, err
		}
		b.Write(name)
		b.WriteByte(':')
		b.Write(value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes, keeping the order.
func (c *Claims) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("inspect: claims are not a JSON object")
	}
	out := Claims{}
	for dec.More() {
		var name, value string
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ = tok.(string)
		if err := dec.Decode(&value); err != nil {
			return fmt.Errorf("inspect: claim %q: %w", name, err)
		}
		oid := name
		for _, k := range claimNames {
			if k.name == name {
				oid = k.oid.String()
			}
		}
		out = append(out, Claim{Name: name, OID: oid, Value: value})
	}
	*c = out
	return nil
}

// oidIssuerV1 is the first issuer extension, 1.3.6.1.4.1.57264.1.1, which
// Fulcio still writes beside the current one (1.8).
var oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}

// fulcioArc is the arc of Fulcio's certificate extensions.
var fulcioArc = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1}

// claimNames are the Fulcio claims an allowed-signers option can ask for,
// in OID order, named and read as that option is. The issuer (1.1 and
// 1.8) is not a claim: it is reported on its own.
var claimNames = func() []claimName {
	var out []claimName
	for _, o := range allowedsigners.ClaimOptions {
		field := o.Field
		out = append(out, claimName{o.Name, o.OID, func(e *certificate.Extensions) string { return *field(e) }})
	}
	return out
}()

type claimName struct {
	name  string
	oid   asn1.ObjectIdentifier
	value func(*certificate.Extensions) string
}

// claims lists the Fulcio extensions present in cert besides the issuer:
// the ones an allowed-signers option checks by that option's name, in OID
// order, then any other extension under Fulcio's arc by its dotted OID
// (1.23 and 1.24 among them), in the certificate's order. ext is what
// sigstore-go read from cert.
func claims(cert *x509.Certificate, ext certificate.Extensions) Claims {
	present := map[string]bool{}
	for _, e := range cert.Extensions {
		present[e.Id.String()] = true
	}
	out := Claims{}
	for _, c := range claimNames {
		if !present[c.oid.String()] {
			continue
		}
		out = append(out, Claim{Name: c.name, OID: c.oid.String(), Value: c.value(&ext)})
	}
	for _, e := range cert.Extensions {
		if !underFulcioArc(e.Id) || known(e.Id) {
			continue
		}
		out = append(out, Claim{Name: e.Id.String(), OID: e.Id.String(), Value: derString(e.Value)})
	}
	return out
}

func underFulcioArc(id asn1.ObjectIdentifier) bool {
	return len(id) > len(fulcioArc) && id[:len(fulcioArc)].Equal(fulcioArc)
}

// known reports the extensions the issuer and the claim table cover.
func known(id asn1.ObjectIdentifier) bool {
	if id.Equal(oidIssuerV1) || id.Equal(certificate.OIDIssuerV2) {
		return true
	}
	for _, c := range claimNames {
		if id.Equal(c.oid) {
			return true
		}
	}
	return false
}

// derString shows the value of an extension sigstore-go does not read:
// the string in it, if it is exactly one DER string, else "hex:" and its
// bytes in hex.
func derString(v []byte) string {
	var s string
	if rest, err := asn1.Unmarshal(v, &s); err == nil && len(rest) == 0 {
		return s
	}
	return fmt.Sprintf("hex:%x", v)
}
