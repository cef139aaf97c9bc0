package attest

import (
	"fmt"

	"github.com/gitsign-dev/gitsign/verify"
)

// Outcome is what Check found of one attestation.
type Outcome struct {
	Name string
	// Statement is the signed statement, when it could be read (also when
	// it did not verify).
	Statement *Statement
	// Result describes the signature, when it verified.
	Result *verify.Result
	Err    error
}

// Check verifies one attestation of the object id (whose statement digest
// name is digestName) with v: the envelope's signature, log entry,
// certificate and signer (VerifyEnvelope), then that the statement is
// about this object and nothing else, and that the predicate stored beside
// the signature, if any, is the one signed.
func Check(v *verify.Verifier, digestName, id string, f File) Outcome {
	out := Outcome{Name: f.Name}
	signed, err := ParseSig(f.Sig)
	if err != nil {
		out.Err = fmt.Errorf("%s.sig: %w", f.Name, err)
		return out
	}
	st, err := ParseStatement(signed.Envelope.Payload)
	if err != nil {
		out.Err = fmt.Errorf("%s.sig: %w", f.Name, err)
		return out
	}
	out.Statement = st
	if !signed.Material {
		out.Err = fmt.Errorf("%s.sig: %w", f.Name, ErrNoMaterial)
		return out
	}
	res, err := v.VerifyEnvelope(signed.Envelope, "")
	if err != nil {
		out.Err = err
		return out
	}
	if err := st.About(digestName, id); err != nil {
		out.Err = fmt.Errorf("%s.sig is not an attestation of this object: %w", f.Name, err)
		return out
	}
	if f.Predicate != nil && !st.SamePredicate(f.Predicate) {
		out.Err = fmt.Errorf("%s is not the predicate %s.sig signs: it was changed after signing", f.Name, f.Name)
		return out
	}
	out.Result = res
	return out
}
