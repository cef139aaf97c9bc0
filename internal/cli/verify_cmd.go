package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/verify"
)

// verifyFlags are the identity policy and trust flags of verify and
// verify-tag, named as the reference names them.
type verifyFlags struct {
	identities, identityRegexps, issuers, issuerRegexps []string
	trustedRoot                                         string
	json                                                bool
}

func (f *verifyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.identities, "certificate-identity", nil, "accept signatures by this identity (the certificate's SAN); repeatable")
	fl.StringArrayVar(&f.identityRegexps, "certificate-identity-regexp", nil, "accept identities matching this regular expression (whole value); repeatable")
	fl.StringArrayVar(&f.issuers, "certificate-oidc-issuer", nil, "accept identities from this OIDC issuer; repeatable")
	fl.StringArrayVar(&f.issuerRegexps, "certificate-oidc-issuer-regexp", nil, "accept issuers matching this regular expression (whole value); repeatable")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "trusted_root.json to verify with (default: gitsign.trustedRoot, the TUF cache, or the built-in public-good root)")
	fl.BoolVar(&f.json, "json", false, "print a JSON array, one object per verified git object")
}

func (f *verifyFlags) policy(cfgPolicy verify.Policy) (verify.Policy, error) {
	p := verify.Policy{Identities: f.identities, IdentityRegexps: f.identityRegexps, Issuers: f.issuers, IssuerRegexps: f.issuerRegexps}
	if !p.Configured() {
		p = cfgPolicy
	}
	return p, p.Complete()
}

func newVerifyCommand(s streams) *cobra.Command {
	f := &verifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify [REVISION|RANGE]...",
		Short: "Verify the signatures of commits, offline where the signature allows",
		Long: `Verify the signatures of commits (default HEAD). Any git revision or range
works (main, v1.0, HEAD~3, main..topic). One identity rule and one issuer rule
are required, from the flags or from git config gitsign.certificateIdentity[Regexp]
and gitsign.certificateOIDCIssuer[Regexp]. Exits 0 only if every commit verified.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"HEAD"}
			}
			return runVerifyObjects(cmd.Context(), f, s, func(ctx context.Context) ([]string, error) { return resolveCommits(ctx, args) })
		},
	}
	f.register(cmd)
	return cmd
}

func newVerifyTagCommand(s streams) *cobra.Command {
	f := &verifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify-tag TAG...",
		Short: "Verify the signatures of annotated tags",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyObjects(cmd.Context(), f, s, func(ctx context.Context) ([]string, error) { return resolveTags(ctx, args) })
		},
	}
	f.register(cmd)
	return cmd
}

// objectReport is one line of output.
type objectReport struct {
	Object      string    `json:"object"`
	Type        string    `json:"type"`
	Verified    bool      `json:"verified"`
	Identity    string    `json:"identity,omitempty"`
	Issuer      string    `json:"issuer,omitempty"`
	Time        time.Time `json:"time,omitzero"`
	LogIndex    int64     `json:"logIndex,omitempty"`
	Online      bool      `json:"online,omitempty"`
	Timestamped bool      `json:"timestamped,omitempty"`
	Certificate string    `json:"certificateFingerprint,omitempty"`
	Error       string    `json:"error,omitempty"`
}

func runVerifyObjects(ctx context.Context, f *verifyFlags, s streams, resolve func(context.Context) ([]string, error)) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := loadConfig(ctx)
	if err != nil {
		return err
	}
	policy, err := f.policy(policyFromConfig(cfg))
	if err != nil {
		return usageError("%v", err)
	}
	v, err := newVerifier(cfg, f.trustedRoot, policy)
	if err != nil {
		return err
	}
	ids, err := resolve(ctx)
	if err != nil {
		return err
	}
	objects, err := readObjects(ctx, ids)
	if err != nil {
		return err
	}
	var reports []objectReport
	failed := 0
	for _, o := range objects {
		r := verifyObject(ctx, v, o)
		if !r.Verified {
			failed++
		}
		if f.json {
			reports = append(reports, r)
			continue
		}
		if r.Verified {
			fmt.Fprintf(s.out, "%s %s: good signature from %s (issuer %s), log index %d, %s\n", r.Object, r.Type, r.Identity, r.Issuer, r.LogIndex, r.Time.UTC().Format(time.RFC3339))
		} else {
			fmt.Fprintf(s.out, "%s %s: FAILED: %s\n", r.Object, r.Type, r.Error)
		}
	}
	if f.json {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		if reports == nil {
			reports = []objectReport{}
		}
		if err := enc.Encode(reports); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d objects did not verify", failed, len(objects))}
	}
	return nil
}

func verifyObject(ctx context.Context, v *verify.Verifier, o gitObject) objectReport {
	r := objectReport{Object: o.id, Type: o.typ}
	payload, sig, err := gitobj.Split(o.typ, o.raw)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	res, err := v.Verify(ctx, payload, sig, func() (string, error) { return o.id, nil })
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Verified, r.Identity, r.Issuer, r.Time = true, res.Identity, res.Issuer, res.Time
	r.LogIndex, r.Online, r.Timestamped, r.Certificate = res.LogIndex, res.Online, res.Timestamped, res.Fingerprint
	return r
}

// resolveCommits turns revisions and ranges into commit ids, with git.
func resolveCommits(ctx context.Context, args []string) ([]string, error) {
	var ids []string
	for _, a := range args {
		var out []byte
		var err error
		if strings.Contains(a, "..") || strings.HasPrefix(a, "^") {
			out, err = git(ctx, nil, "rev-list", a, "--")
		} else {
			out, err = git(ctx, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", a+"^{commit}")
			if err != nil {
				return nil, fmt.Errorf("%s is not a commit in this repository", a)
			}
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, strings.Fields(string(out))...)
	}
	return ids, nil
}

// resolveTags turns tag names into tag object ids, with git.
func resolveTags(ctx context.Context, names []string) ([]string, error) {
	var ids []string
	for _, n := range names {
		out, err := git(ctx, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", "refs/tags/"+n)
		if err != nil {
			return nil, fmt.Errorf("no tag %s", n)
		}
		id := strings.TrimSpace(string(out))
		if typ, err := git(ctx, nil, "cat-file", "-t", id); err != nil || strings.TrimSpace(string(typ)) != "tag" {
			return nil, fmt.Errorf("tag %s is a lightweight tag: it has no signature of its own (verify the commit with gitsign verify %s)", n, n)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

type gitObject struct {
	id, typ string
	raw     []byte
}

// readObjects reads the raw objects, exactly as git stores them, through
// one `git cat-file --batch`.
func readObjects(ctx context.Context, ids []string) ([]gitObject, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cmd := exec.CommandContext(ctx, "git", "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running git cat-file: %w", err)
	}
	br := bufio.NewReader(stdout)
	objects := make([]gitObject, 0, len(ids))
	for range ids {
		header, err := br.ReadString('\n')
		if err != nil {
			cmd.Wait()
			return nil, fmt.Errorf("git cat-file: %v %s", err, stderr.String())
		}
		f := strings.Fields(header)
		if len(f) != 3 {
			cmd.Wait()
			return nil, fmt.Errorf("git cat-file: %s", strings.TrimSpace(header))
		}
		size, err := strconv.Atoi(f[2])
		if err != nil || size < 0 || size > maxPayload {
			cmd.Wait()
			return nil, fmt.Errorf("git cat-file: bad size in %q", header)
		}
		raw := make([]byte, size+1)
		if _, err := io.ReadFull(br, raw); err != nil {
			cmd.Wait()
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		objects = append(objects, gitObject{id: f[0], typ: f[1], raw: raw[:size]})
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("git cat-file: %v %s", err, stderr.String())
	}
	return objects, nil
}

// git runs git and returns its standard output.
func git(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New("git " + args[0] + ": " + msg)
	}
	return out, nil
}
