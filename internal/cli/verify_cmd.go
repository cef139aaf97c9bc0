package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/inspect"
	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/verify"
)

// verifyFlags are the identity policy and trust flags of verify and
// verify-tag, named as the reference names them.
type verifyFlags struct {
	identities, identityRegexps, issuers, issuerRegexps []string
	allowedSigners                                      string
	claims                                              map[string]string // by claimFlags name
	trustedRoot                                         string
	json                                                bool
	// insecureIgnoreSCT (--insecure-ignore-sct, or git config
	// gitsign.insecureIgnoreSCT): accept certificates without a verified
	// SCT, with a warning for each.
	insecureIgnoreSCT bool
	// sct is the reference's deprecated --sct FILE (a detached SCT),
	// refused with why.
	sct string
	// allowEmpty (gitsign verify --allow-empty): a range that names no
	// commit is not an error.
	allowEmpty bool
}

func (f *verifyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.identities, "certificate-identity", nil, "accept signatures by this identity (the certificate's SAN); repeatable")
	fl.StringArrayVar(&f.identityRegexps, "certificate-identity-regexp", nil, "accept identities matching this regular expression (whole value); repeatable")
	fl.StringArrayVar(&f.issuers, "certificate-oidc-issuer", nil, "accept identities from this OIDC issuer; repeatable")
	fl.StringArrayVar(&f.issuerRegexps, "certificate-oidc-issuer-regexp", nil, "accept issuers matching this regular expression (whole value); repeatable")
	f.claims = make(map[string]string, len(claimFlags))
	for _, c := range claimFlags {
		fl.Var(claimValue{f.claims, c.name}, c.name, c.usage)
	}
	fl.StringVar(&f.allowedSigners, "allowed-signers", "", "accept the signers an allowed-signers file lists: a path (relative to the top of the work tree) or REV:PATH (e.g. origin/main:.gitsigners); instead of the --certificate-* flags")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "trusted_root.json to verify with (default: gitsign.trustedRoot, the TUF cache, or the built-in public-good root)")
	fl.BoolVar(&f.insecureIgnoreSCT, "insecure-ignore-sct", false, "accept a signing certificate without a verified SCT (a private Fulcio that logs to no CT log), with a warning for each; also git config gitsign.insecureIgnoreSCT")
	fl.StringVar(&f.sct, "sct", "", "not supported: a detached SCT file (deprecated in sigstore/gitsign)")
	_ = fl.MarkHidden("sct")
	fl.BoolVar(&f.json, "json", false, `print one JSON object, {"schema":1,"results":[...]}, a result per git object (fields: docs/json.md)`)
}

// claimValue is a claim flag's value, kept in a map by flag name.
type claimValue struct {
	values map[string]string
	name   string
}

func (c claimValue) String() string {
	if c.values == nil {
		return ""
	}
	return c.values[c.name]
}
func (c claimValue) Set(v string) error { c.values[c.name] = v; return nil }
func (c claimValue) Type() string       { return "string" }

func newVerifyCommand(s streams) *cobra.Command {
	f := &verifyFlags{}
	cmd := &cobra.Command{
		Use:               "verify [REVISION|RANGE]...",
		ValidArgsFunction: completeRevisions(false),
		Short:             "Verify the signatures of commits, offline where the signature allows",
		Long: `Verify the signatures of commits (default HEAD). Any git revision or range
works (main, v1.0, HEAD~3, main..topic). Who may sign comes from an
allowed-signers file (--allowed-signers FILE or REV:PATH, or git config
gitsign.allowedSignersFile), or from one identity rule and one issuer rule
(the --certificate-* flags, or git config gitsign.certificateIdentity[Regexp]
and gitsign.certificateOIDCIssuer[Regexp]). Flags override git config.
Every name is resolved once, to an object id; a name git finds in more
than one place (a tag and a remote-tracking branch both called
origin/main) is refused, as anyone who can push a tag could otherwise
choose what it means: in CI, give object ids or full ref names
(refs/remotes/origin/main). Exits 0 only if every commit verified, and 1
when the ranges name no commit at all, unless --allow-empty.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"HEAD"}
			}
			err := runVerifyObjects(cmd.Context(), f, s, func(ctx context.Context) (gitrepo.IDSource, error) { return commitSource(ctx, args) })
			if errors.Is(err, errNothingVerified) && !f.allowEmpty {
				verb := "names"
				if len(args) > 1 {
					verb = "name"
				}
				// The arguments were resolved by git, so they print as given.
				return (&exitError{code: 1, err: fmt.Errorf("nothing to verify: %s %s no commit", printable.String(strings.Join(args, " ")), verb)}).
					hint("gitsign verify --allow-empty accepts a range with no commits")
			}
			if errors.Is(err, errNothingVerified) {
				return nil
			}
			return err
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&f.allowEmpty, "allow-empty", false, "exit 0 when the ranges name no commit (by default that is an error: a CI check over an empty range proves nothing)")
	return cmd
}

func newVerifyTagCommand(s streams) *cobra.Command {
	f := &verifyFlags{}
	cmd := &cobra.Command{
		Use:               "verify-tag TAG...",
		ValidArgsFunction: completeRevisions(true),
		Short:             "Verify the signatures of annotated tags",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("gitsign verify-tag needs the name of a tag").hint("usage: %s", cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyObjects(cmd.Context(), f, s, func(ctx context.Context) (gitrepo.IDSource, error) {
				ids, err := resolveTags(ctx, args)
				return gitrepo.IDList(ids), err
			})
		},
	}
	f.register(cmd)
	return cmd
}

// objectReport is one object's outcome: a line of output, or a result
// in the JSON document (result, in jsondoc.go).
type objectReport struct {
	Object       string
	Type         string
	Verified     bool
	Identity     string
	IdentityType string
	Issuer       string
	Time         time.Time
	LogIndex     int64
	Online       bool
	Timestamped  bool
	Certificate  inspect.Certificate
	Rule         string
	SCTIgnored   string // why the SCT did not verify, when accepted anyway
	Error        string

	err     error          // why it did not verify
	refusal *refusedObject // gitsign pre-receive's account of err
}

// runVerifyObjects verifies the objects resolve names, on every core
// (verifyStream), and prints a report for each in resolve's order as soon
// as it and those before it are done. Mistakes that resolve finds are
// reported before any object is read.
func runVerifyObjects(ctx context.Context, f *verifyFlags, s streams, resolve func(context.Context) (gitrepo.IDSource, error)) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := f.checkUsage(); err != nil {
		return err
	}
	// Overlaps with the git processes below.
	verify.WarmUp(f.trustedRoot == "")
	if err := checkRepository(ctx); err != nil {
		return err
	}
	cfg, err := loadConfigWarning(ctx, s.err)
	if err != nil {
		return err
	}
	v, signers, err := f.verifier(ctx, cfg, s)
	if err != nil {
		return err
	}
	relaxGC()
	src, err := resolve(ctx)
	if err != nil {
		return err
	}
	out := &reportWriter{w: s.out, json: f.json}
	total, failed := 0, 0
	check := func(ctx context.Context, o gitrepo.Object) objectReport { return checkAdvised(ctx, v, o) }
	advice := &acceptAdvice{place: policyPlace(signersName(signers), f.ruleFlags())}
	err = verifyStream(ctx, src, runtime.GOMAXPROCS(0), check, func(r objectReport) error {
		total++
		warnSCTIgnored(s.err, r.Object, r.SCTIgnored)
		if !r.Verified {
			failed++
			advice.add(r)
		}
		return out.write(r)
	})
	if err != nil {
		return err
	}
	if err := out.close(); err != nil {
		return err
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d objects did not verify", failed, total), hints: advice.hints}
	}
	if total == 0 {
		return errNothingVerified
	}
	return nil
}

// verifier builds the run's Verifier from the flags and git config: the
// identity policy (refused, exit 2, when missing or incomplete), with a
// warning about the allowed-signers file once per run, and the trust
// material. Mistakes here are the setup's, found before any object is
// read.
func (f *verifyFlags) verifier(ctx context.Context, cfg *config.Config, s streams) (*verify.Verifier, *allowedsigners.File, error) {
	policy, signers, err := f.policy(ctx, cfg)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, nil, err
		}
		return nil, nil, &exitError{code: 2, err: err}
	}
	if !policy.Configured() {
		return nil, nil, noPolicyError(ctx)
	}
	if err := policy.Complete(); err != nil {
		return nil, nil, &exitError{code: 2, err: err, hints: policyHints(err, true)}
	}
	// Once per run, for the file in use. git's helper path does not warn:
	// git shows its stderr once per commit (git log --show-signature).
	if signers != nil {
		if w := signers.Warning(); w != "" {
			fmt.Fprintf(s.err, "gitsign: warning: %s\n", printable.String(w))
		}
	}
	tm, err := loadTrust(cfg, f.trustedRoot)
	if err != nil {
		// Trust material that cannot be read is the setup's mistake,
		// found before any object is read.
		return nil, nil, &exitError{code: 2, err: err}
	}
	v, err := verify.New(tm, verify.Options{Policy: policy, Log: rekorLog(cfg), InsecureIgnoreSCT: f.insecureIgnoreSCT || cfg.InsecureIgnoreSCT})
	if err != nil {
		return nil, nil, &exitError{code: 2, err: err, hints: policyHints(err, true)}
	}
	return v, signers, nil
}

// checkUsage refuses flags that cannot be used, before anything is read.
func (f *verifyFlags) checkUsage() error {
	if f.sct != "" {
		return usageError("--sct is not supported: it gave sigstore/gitsign a detached SCT for its legacy verifier; Fulcio certificates carry their SCT").
			hint("for a private Fulcio that logs to no CT log, pass --insecure-ignore-sct (or set gitsign.insecureIgnoreSCT)")
	}
	return nil
}

// errNothingVerified: runVerifyObjects found no object to verify; gitsign
// verify decides whether that is an error (--allow-empty).
var errNothingVerified = errors.New("nothing to verify")

func verifyObject(ctx context.Context, v *verify.Verifier, o gitrepo.Object) objectReport {
	res, err := v.VerifyObject(ctx, verify.Object{Type: o.Type, ID: o.ID, Raw: o.Raw, Format: o.Format})
	return reportOf(o.ID, o.Type, res, err)
}

// reportOf is the report of a verification of object id (of type typ)
// that gave res or err.
func reportOf(id, typ string, res *verify.Result, err error) objectReport {
	r := objectReport{Object: id, Type: typ}
	if err != nil {
		r.Error, r.err = err.Error(), err
		return r
	}
	r.Verified, r.Identity, r.Issuer, r.Time = true, res.Identity, res.Issuer, res.Time
	r.LogIndex, r.Online, r.Timestamped, r.Rule = res.LogIndex, res.Online, res.Timestamped, res.Rule
	r.SCTIgnored = res.SCTIgnored
	r.Certificate.Fingerprint = res.Fingerprint
	if res.Cert != nil {
		r.Certificate, r.IdentityType = inspect.CertificateOf(res.Cert), inspect.IdentityTypeOf(res.Cert)
	}
	return r
}

// warnSCTIgnored warns that the signature of object was accepted without
// a verified SCT (why), when it was.
func warnSCTIgnored(w io.Writer, object, why string) {
	if why != "" {
		fmt.Fprintf(w, "gitsign: warning: %s: accepted without a verified SCT, as --insecure-ignore-sct or gitsign.insecureIgnoreSCT asks: %s\n", object, printable.String(why))
	}
}
