package cli

// This file is gitsign pre-receive, what a server repository's
// hooks/pre-receive runs: it judges a push by the policy already on the
// server and refuses it, whole, unless every commit it brings and every
// tag object it pushes is signed by someone that policy lists, and no
// protected ref is deleted or moved backwards.
//
//	git's "<old> <new> <ref>" lines ─ receive.Parse ─ by ref: exempt? protected?
//	  new tips ─ git rev-list <tips> --not <enforced refs> ─ cat-file ─ verifyStream
//	  ─ one "refused:" line per bad object, a summary, an audit line
//
// The objects of a push wait in git's quarantine until the hook says yes;
// every git this runs sees them, and sees the refs as they were.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/internal/receive"
	"github.com/gitsign-dev/gitsign/verify"
)

// defaultReceivePolicy is the policy of a server repository that names
// none: the allowed-signers file on its default branch.
const defaultReceivePolicy = "HEAD:.gitsigners"

// maxRefusedLines bounds the refused objects listed to the pusher; the
// summary counts them all.
const maxRefusedLines = 50

// errNoPolicy: the server repository has no allowed-signers file to judge
// a push by.
var errNoPolicy = errors.New("no policy")

func newPreReceiveCommand(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "pre-receive",
		Short: "Refuse a push unless every new commit and tag is signed by a listed signer (a server's pre-receive hook)",
		Long: `Run by git as a server repository's pre-receive hook (hooks/pre-receive:
exec gitsign pre-receive). It reads git's "<old> <new> <ref>" lines and
refuses the whole push unless every commit it makes reachable that no
existing ref under refs/heads/ or refs/tags/ reaches, and every annotated
tag object it pushes, verifies against the allowed-signers file as it is
on the server before the push:

  gitsign.allowedSignersFile   REV:PATH or a path (relative to the
                               repository); default HEAD:.gitsigners
  gitsign.trustedRoot          as for gitsign verify
  gitsign.receive.exempt       ref patterns left alone (repeatable;
                               '*' matches anything, '/' included)
  gitsign.receive.protect      ref patterns that may not be deleted or
                               moved other than forward (repeatable;
                               default: the branch HEAD names, refs/tags/*)
  gitsign.receive.log          a file to append one JSON line per push to

Commits reachable only from exempt refs are verified when a push makes an
enforced ref reach them. History already on the server is not checked.
Exit status 0 accepts the push; anything else refuses it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPreReceive(cmd.Context(), s)
		},
	}
}

// pushJudge holds what one run of the hook has found.
type pushJudge struct {
	s       streams
	policy  string // the policy as named, e.g. HEAD:.gitsigners
	at      string // the object id the policy's revision was, or ""
	updates []receive.Update
	exempt  receive.Patterns
	protect receive.Patterns

	refProblems []string // ref updates refused, as printed
	verified    int      // objects that verified
	refused     []refusedObject
	exempted    int // ref updates left alone
}

// refusedObject is a commit or tag that did not verify, and why.
type refusedObject struct {
	Object  string   `json:"object"`
	Type    string   `json:"type"`
	Subject string   `json:"subject"`
	Reason  string   `json:"reason"`
	Suggest []string `json:"allowedSigners,omitempty"`
}

func runPreReceive(ctx context.Context, s streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	j := &pushJudge{s: s}
	cfg, err := j.setUp(ctx)
	if err == nil {
		err = j.judge(ctx, cfg)
	}
	if cfg != nil && cfg.ReceiveLog != "" {
		if lerr := j.writeAudit(cfg.ReceiveLog, err); lerr != nil && err == nil {
			err = fmt.Errorf("cannot write the audit log gitsign.receive.log: %v", lerr)
		}
	}
	if err == nil {
		return nil
	}
	if !errors.Is(err, errReported) {
		report(s.err, err)
		fmt.Fprintf(s.err, "gitsign: push refused: the push cannot be checked (above)\n")
	}
	var ee *exitError
	code := 1
	if errors.As(err, &ee) {
		code = ee.code
	}
	return &exitError{code: code, err: errReported}
}

// setUp reads git's input, git config and the policy. cfg is returned
// whenever git config could be read, so that a refusal is still logged.
func (j *pushJudge) setUp(ctx context.Context) (*config.Config, error) {
	if err := checkRepository(ctx); err != nil {
		return nil, err
	}
	format, err := gitrepo.ObjectFormat(ctx)
	if err != nil {
		return nil, err
	}
	idLen := 40
	if format == "sha256" {
		idLen = 64
	}
	cfg, err := loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	verify.WarmUp(cfg.TrustedRoot == "")
	j.updates, err = receive.Parse(j.s.in, idLen)
	if err != nil {
		return cfg, err
	}
	j.exempt = receive.Patterns(cfg.ReceiveExempt)
	j.protect = receive.Patterns(cfg.ReceiveProtect)
	if cfg.ReceiveProtect == nil {
		j.protect = receive.Patterns{"refs/tags/*"}
		if out, err := gitrepo.Git(ctx, nil, "symbolic-ref", "-q", "HEAD"); err == nil {
			j.protect = append(j.protect, strings.TrimSpace(string(out)))
		}
	}
	return cfg, nil
}

// receivePolicy reads the server's allowed-signers file.
func (j *pushJudge) receivePolicy(ctx context.Context, cfg *config.Config) (*allowedsigners.File, error) {
	if configIdentityPolicy(cfg).Configured() {
		return nil, usageError("gitsign pre-receive takes its policy from an allowed-signers file (gitsign.allowedSignersFile), not from gitsign.certificateIdentity/gitsign.certificateOIDCIssuer: unset those")
	}
	j.policy = cfg.AllowedSignersFile
	if j.policy == "" {
		j.policy = defaultReceivePolicy
	}
	var data []byte
	var err error
	if isRevPath(j.policy) {
		data, j.at, err = gitrepo.ReadRevPath(ctx, j.policy, allowedsigners.MaxSize)
		if errors.Is(err, gitrepo.ErrNoSuchFile) {
			err = fmt.Errorf("%w: %s does not exist on the server%s", errNoPolicy, j.policy, unbornHead(ctx, j.policy))
		}
	} else {
		data, err = readServerFile(ctx, j.policy)
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %s does not exist on the server", errNoPolicy, j.policy)
		}
	}
	if err != nil {
		if errors.Is(err, errNoPolicy) {
			return nil, err
		}
		return nil, &signersError{Value: j.policy, Err: revisionError(err)}
	}
	file, err := allowedsigners.Parse(data, j.policy)
	if err != nil {
		return nil, err
	}
	if len(file.Rules) == 0 {
		return nil, fmt.Errorf("%w: %s lists no signer", errNoPolicy, j.policy)
	}
	return file, nil
}

// unbornHead explains a policy in HEAD that is missing because HEAD names
// a branch that does not exist (a bare repository made with git init
// --bare names master, whatever is pushed), or returns "".
func unbornHead(ctx context.Context, policy string) string {
	if !strings.HasPrefix(policy, "HEAD:") {
		return ""
	}
	out, err := gitrepo.Git(ctx, nil, "symbolic-ref", "-q", "HEAD")
	branch := strings.TrimSpace(string(out))
	if err != nil || branch == "" {
		return ""
	}
	if _, err := gitrepo.Git(ctx, nil, "rev-parse", "--verify", "--quiet", branch); err == nil {
		return ""
	}
	if out, err := gitrepo.Git(ctx, nil, "for-each-ref", "--count=1", "refs/heads/"); err == nil && len(out) == 0 {
		return " (the repository has no branch yet)"
	}
	return fmt.Sprintf(" (HEAD names %s, which does not exist: git symbolic-ref HEAD refs/heads/<default branch> points it at another)", printable.String(branch))
}

// readServerFile reads an allowed-signers file named by a path, relative
// to the directory git runs the hook in: the repository (a bare one's
// GIT_DIR), or the top of its work tree.
func readServerFile(ctx context.Context, path string) ([]byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return readSignersFile(ctx, abs)
}

// judge decides on the push: the ref rules first, then every new object.
func (j *pushJudge) judge(ctx context.Context, cfg *config.Config) error {
	file, err := j.receivePolicy(ctx, cfg)
	if err != nil {
		return err
	}
	tm, err := loadTrust(cfg, "")
	if err != nil {
		return err
	}
	v, err := verify.New(tm, verify.Options{Policy: verify.Policy{Rules: file.Rules}, Log: rekorLog(cfg)})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	relaxGC()
	tips, err := j.checkRefs(ctx)
	if err != nil {
		return err
	}
	src, err := j.newObjects(ctx, tips)
	if err != nil {
		return err
	}
	check := func(ctx context.Context, o gitrepo.Object) objectReport { return j.check(ctx, v, o) }
	err = verifyStream(ctx, src, runtime.GOMAXPROCS(0), check, func(r objectReport) error {
		if r.Verified {
			j.verified++
			return nil
		}
		j.refuse(*r.refusal)
		return nil
	})
	if err != nil {
		return err
	}
	return j.summary()
}
