package cli

// This file says how to accept a signer the identity policy refused: the
// allowed-signers line gitsign show would print for the signature
// (suggestions, show.go), and where it goes.

import (
	"context"
	"errors"
	"fmt"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
	"github.com/gitsign-dev/gitsign/internal/certinfo"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/inspect"
	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/verify"
)

// maxAcceptHints bounds how many refused signers a run gives hints for.
const maxAcceptHints = 5

// acceptLines are the allowed-signers lines that would accept the signer
// of sig, when err is a good signature the policy does not accept (a
// *verify.NotAcceptedError); nil otherwise.
func acceptLines(err error, sig []byte) []string {
	var na *verify.NotAcceptedError
	if !errors.As(err, &na) {
		return nil
	}
	d, derr := inspect.Signature(sig)
	if derr != nil {
		return nil
	}
	return suggestions(d)
}

// policyPlace says where an allowed-signers line goes, for hints: the
// file the policy comes from, or, for identity and issuer rules, a file
// in their place, named as the person sets it (flags: gitsign verify's
// flags; else git config).
func policyPlace(file string, flags bool) string {
	switch {
	case file != "":
		return "add this line to " + printable.String(file)
	case flags:
		return "list it in an allowed-signers file with this line and pass --allowed-signers FILE in place of the --certificate-* flags"
	}
	return "list it in an allowed-signers file with this line and set git config gitsign.allowedSignersFile to it in place of gitsign.certificateIdentity and gitsign.certificateOIDCIssuer"
}

// acceptHints are the hints that accept one refused signer: the signer's
// line, then the line pinned to the CI run's repository and ref, if any.
func acceptHints(err error, lines []string, place string) []string {
	var na *verify.NotAcceptedError
	if len(lines) == 0 || !errors.As(err, &na) {
		return nil
	}
	out := []string{fmt.Sprintf("to accept %s, %s: %s", certinfo.Describe(na.Cert), place, lines[0])}
	for _, l := range lines[1:] {
		out = append(out, "or, for its repository and ref only: "+l)
	}
	return out
}

// checkAdvised verifies o, and when its signer is refused, keeps the
// allowed-signers lines that would accept it (in the report's refusal).
func checkAdvised(ctx context.Context, v *verify.Verifier, o gitrepo.Object) objectReport {
	r := verifyObject(ctx, v, o)
	if r.Verified {
		return r
	}
	if _, sig, err := o.Split(); err == nil {
		if lines := acceptLines(r.err, sig); lines != nil {
			r.refusal = &refusedObject{Object: o.ID, Type: o.Type, Suggest: lines}
		}
	}
	return r
}

// acceptAdvice gathers, over a run, the hints that accept the signers
// the policy refused, each signer once, for the run's final error.
type acceptAdvice struct {
	place   string
	hints   []string
	signers map[string]bool
}

func (a *acceptAdvice) add(r objectReport) {
	if r.Verified || r.refusal == nil || len(r.refusal.Suggest) == 0 {
		return
	}
	if a.signers == nil {
		a.signers = map[string]bool{}
	}
	key := r.refusal.Suggest[0]
	if a.signers[key] || len(a.signers) >= maxAcceptHints {
		return
	}
	a.signers[key] = true
	a.hints = append(a.hints, acceptHints(r.err, r.refusal.Suggest, a.place)...)
}

// signersName is the allowed-signers file's name as it was given, or ""
// for none.
func signersName(f *allowedsigners.File) string {
	if f == nil {
		return ""
	}
	return f.Name
}

// ruleFlags reports whether identity or issuer rules were given as flags.
func (f *verifyFlags) ruleFlags() bool {
	return len(f.identities)+len(f.identityRegexps)+len(f.issuers)+len(f.issuerRegexps) > 0
}
