package cli

// This file builds the identity policy gitsign verifies with, on git's
// helper path and in gitsign verify/verify-tag: an allowed-signers file
// (gitsign.allowedSignersFile, --allowed-signers), or identity and issuer
// rules (gitsign.certificateIdentity*, gitsign.certificateOIDCIssuer*,
// the --certificate-* flags), never both.
//
// An allowed-signers file is named by a path or by REV:PATH, a file in a
// git revision. The rule is plain and does not depend on what exists: a
// value with a colon that does not start with ':', '/', './' or '../' is
// REV:PATH; anything else is a path. Falling back to a file when REV does
// not resolve would let a branch that adds a file named like
// "origin/main:.gitsigners" pick its own policy in a checkout where
// origin/main was not fetched. A relative path is taken from the top of
// the work tree, so a committed .gitsigners works from any subdirectory.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/verify"
)

// errConfigPolicyConflict: git config names an allowed-signers file and
// identity or issuer rules too.
var errConfigPolicyConflict = errors.New("gitsign.allowedSignersFile and gitsign.certificateIdentity/gitsign.certificateOIDCIssuer (or their Regexp forms) are both set: choose one")

// signersError is an allowed-signers file that cannot be read. Value is
// the file as it was named.
type signersError struct {
	Value string
	Err   error
}

func (e *signersError) Error() string {
	return fmt.Sprintf("allowed signers %s: %v", e.Value, e.Err)
}
func (e *signersError) Unwrap() error { return e.Err }

// configIdentityPolicy is the identity and issuer rules of git config.
func configIdentityPolicy(cfg *config.Config) verify.Policy {
	return verify.Policy{
		Identities:      cfg.CertificateIdentity,
		IdentityRegexps: cfg.CertificateIdentityRegexp,
		Issuers:         cfg.CertificateOIDCIssuer,
		IssuerRegexps:   cfg.CertificateOIDCIssuerRegexp,
	}
}

// policyFromConfig is the identity policy git config sets, for git's
// helper path. It says nothing about the allowed-signers file's warnings
// (identities that are not plain ASCII): git shows the helper's stderr
// once per commit, so under git log --show-signature a warning would
// repeat for every commit; gitsign verify gives it, once.
func policyFromConfig(ctx context.Context, cfg *config.Config) (verify.Policy, error) {
	p, _, err := policyFileFromConfig(ctx, cfg)
	return p, err
}

// policyFileFromConfig is the identity policy git config sets: the
// allowed-signers file, or the identity and issuer rules. An empty policy
// means none is set. file is the allowed-signers file the policy comes
// from, nil when it comes from none.
func policyFileFromConfig(ctx context.Context, cfg *config.Config) (p verify.Policy, file *allowedsigners.File, err error) {
	rules := configIdentityPolicy(cfg)
	if cfg.AllowedSignersFile == "" {
		return rules, nil, nil
	}
	if rules.Configured() {
		return verify.Policy{}, nil, errConfigPolicyConflict
	}
	file, err = readAllowedSigners(ctx, cfg.AllowedSignersFile)
	if err != nil {
		return verify.Policy{}, nil, err
	}
	return verify.Policy{Rules: file.Rules}, file, nil
}

// isRevPath reports whether an allowed-signers value names a file in a
// git revision (REV:PATH) rather than a path.
func isRevPath(v string) bool {
	i := strings.IndexByte(v, ':')
	return i > 0 && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "./") && !strings.HasPrefix(v, "../")
}

// readAllowedSigners reads and parses the allowed-signers file value
// names, at most allowedsigners.MaxSize bytes of it. Parse errors are
// *allowedsigners.ParseError naming the file as value does.
func readAllowedSigners(ctx context.Context, value string) (*allowedsigners.File, error) {
	var data []byte
	var err error
	if isRevPath(value) {
		data, _, err = gitrepo.ReadRevPath(ctx, value, allowedsigners.MaxSize)
	} else {
		data, err = readSignersFile(ctx, value)
	}
	if err != nil {
		return nil, &signersError{Value: value, Err: err}
	}
	return allowedsigners.Parse(data, value)
}

// readSignersFile reads a file, a relative path from the top of the work
// tree.
func readSignersFile(ctx context.Context, path string) ([]byte, error) {
	if !filepath.IsAbs(path) {
		top, err := gitrepo.TopLevel(ctx)
		if err != nil {
			return nil, fmt.Errorf("a relative path is taken from the top of the work tree, and there is none here (%v): give an absolute path or REV:PATH", err)
		}
		path = filepath.Join(top, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, allowedsigners.MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > allowedsigners.MaxSize {
		return nil, fmt.Errorf("larger than %d bytes", allowedsigners.MaxSize)
	}
	return data, nil
}

// claimFlags are gitsign verify's --certificate-github-workflow-* flags,
// named as the reference names them, and the certificate extension each
// sets.
var claimFlags = []struct {
	name, usage string
	field       func(e *certificate.Extensions) *string
}{
	{"certificate-github-workflow-trigger", "accept only certificates whose GitHub workflow trigger (event name) is this", func(e *certificate.Extensions) *string { return &e.GithubWorkflowTrigger }},
	{"certificate-github-workflow-sha", "accept only certificates whose GitHub workflow commit SHA is this", func(e *certificate.Extensions) *string { return &e.GithubWorkflowSHA }},
	{"certificate-github-workflow-name", "accept only certificates whose GitHub workflow name is this", func(e *certificate.Extensions) *string { return &e.GithubWorkflowName }},
	{"certificate-github-workflow-repository", "accept only certificates whose GitHub workflow repository (OWNER/REPO) is this", func(e *certificate.Extensions) *string { return &e.GithubWorkflowRepository }},
	{"certificate-github-workflow-ref", "accept only certificates whose GitHub workflow git ref is this", func(e *certificate.Extensions) *string { return &e.GithubWorkflowRef }},
}

// policy is the identity policy gitsign verify uses: --allowed-signers;
// else the identity and issuer flags, with the claim flags; else git
// config, with the claim flags. file is the allowed-signers file the
// policy comes from, nil when it comes from none.
func (f *verifyFlags) policy(ctx context.Context, cfg *config.Config) (p verify.Policy, file *allowedsigners.File, err error) {
	var claims certificate.Extensions
	claimFlag := ""
	for _, c := range claimFlags {
		if v := f.claims[c.name]; v != "" {
			*c.field(&claims) = v
			if claimFlag == "" {
				claimFlag = "--" + c.name
			}
		}
	}
	p = verify.Policy{Identities: f.identities, IdentityRegexps: f.identityRegexps, Issuers: f.issuers, IssuerRegexps: f.issuerRegexps}
	ruleFlags := p.Configured()
	switch {
	case f.allowedSigners != "" && ruleFlags:
		return p, nil, usageError("--allowed-signers cannot be combined with --certificate-identity, --certificate-identity-regexp, --certificate-oidc-issuer or --certificate-oidc-issuer-regexp: choose one")
	case f.allowedSigners != "" && claimFlag != "":
		return p, nil, usageError("%s cannot be combined with --allowed-signers: give the claim as an option of the file's lines (%s=VALUE)", claimFlag, strings.TrimPrefix(claimFlag, "--certificate-"))
	case f.allowedSigners != "":
		file, err := readAllowedSigners(ctx, f.allowedSigners)
		if err != nil {
			return verify.Policy{}, nil, err
		}
		return verify.Policy{Rules: file.Rules}, file, nil
	case ruleFlags:
		p.Claims = claims
		return p, nil, nil
	}
	p, file, err = policyFileFromConfig(ctx, cfg)
	if err != nil {
		return p, nil, err
	}
	if claimFlag != "" && len(p.Rules) > 0 {
		return p, nil, usageError("%s cannot be combined with gitsign.allowedSignersFile: give the claim as an option of the file's lines (%s=VALUE)", claimFlag, strings.TrimPrefix(claimFlag, "--certificate-"))
	}
	p.Claims = claims
	return p, file, nil
}
