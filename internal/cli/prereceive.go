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
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/root"
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
	head    string             // the ref HEAD names, "" when detached
	refs    []existingRef      // the refs under refs/heads/ and refs/tags/ before the push
	types   map[string]tipType // what each pushed ref value is
	forward map[string]bool    // protected branches (by ref) that move forward

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

// setUp reads git's input, then asks git, side by side (each git process
// costs milliseconds, and a one-commit push should cost little more than
// one without the hook): what the repository is, its config, the refs it
// has, and what each pushed ref value is. cfg is returned whenever git
// config could be read, so that a refusal is still logged.
func (j *pushJudge) setUp(ctx context.Context) (*config.Config, error) {
	var err error
	if j.updates, err = receive.Parse(j.s.in, 0); err != nil {
		return nil, err
	}
	var (
		facts             gitrepo.Facts
		cfg               *config.Config
		factsErr, cfgErr  error
		refsErr, typesErr error
		wg                sync.WaitGroup
	)
	wg.Go(func() { facts, factsErr = gitrepo.Describe(ctx) })
	wg.Go(func() { cfg, cfgErr = loadConfig(ctx) })
	wg.Go(func() { j.refs, refsErr = existingRefs(ctx) })
	wg.Go(func() { j.types, typesErr = j.tipTypes(ctx) })
	wg.Wait()
	if factsErr != nil {
		return nil, checkRepositoryError(factsErr)
	}
	if cfgErr != nil {
		return nil, cfgErr
	}
	verify.WarmUp(cfg.TrustedRoot == "")
	idLen := map[string]int{"sha1": 40, "sha256": 64}[facts.Format]
	if len(j.updates) > 0 && len(j.updates[0].Old) != idLen {
		return cfg, fmt.Errorf("git's input names %d-digit ids, and this repository's object format is %s", len(j.updates[0].Old), facts.Format)
	}
	if err := errors.Join(refsErr, typesErr); err != nil {
		return cfg, err
	}
	j.head = facts.Head
	j.exempt = receive.Patterns(cfg.ReceiveExempt)
	j.protect = receive.Patterns(cfg.ReceiveProtect)
	if cfg.ReceiveProtect == nil {
		j.protect = receive.Patterns{"refs/tags/*"}
		if facts.Head != "" {
			j.protect = append(j.protect, facts.Head)
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
	switch {
	case strings.HasPrefix(j.policy, "HEAD:"):
		// One git process: HEAD cannot be ambiguous.
		data, j.at, err = gitrepo.ReadHeadPath(ctx, strings.TrimPrefix(j.policy, "HEAD:"), allowedsigners.MaxSize)
		if errors.Is(err, gitrepo.ErrNoSuchFile) {
			err = fmt.Errorf("%w: %s does not exist on the server%s", errNoPolicy, j.policy, j.unbornHead())
		}
	case isRevPath(j.policy):
		data, j.at, err = gitrepo.ReadRevPath(ctx, j.policy, allowedsigners.MaxSize)
		if errors.Is(err, gitrepo.ErrNoSuchFile) {
			err = fmt.Errorf("%w: %s does not exist on the server", errNoPolicy, j.policy)
		}
	default:
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
func (j *pushJudge) unbornHead() string {
	if !strings.HasPrefix(j.policy, "HEAD:") || j.head == "" {
		return ""
	}
	branches := 0
	for _, r := range j.refs { // the refs there were, listed once
		if r.name == j.head {
			return ""
		}
		if strings.HasPrefix(r.name, "refs/heads/") {
			branches++
		}
	}
	if branches == 0 {
		return " (the repository has no branch yet)"
	}
	return fmt.Sprintf(" (HEAD names %s, which does not exist: git symbolic-ref HEAD refs/heads/<default branch> points it at another)", printable.String(j.head))
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
	// git lists the new commits while the rest is done.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src, err := j.newObjects(ctx, j.tips())
	if err != nil {
		return err
	}
	// Side by side: the policy (git), the trusted root (CPU), and whether
	// each protected branch moves forward (git).
	var (
		file                       *allowedsigners.File
		tm                         root.TrustedMaterial
		policyErr, trustErr, ffErr error
		wg                         sync.WaitGroup
	)
	wg.Go(func() { file, policyErr = j.receivePolicy(ctx, cfg) })
	wg.Go(func() { tm, trustErr = loadTrust(cfg, "") })
	wg.Go(func() { ffErr = j.checkForward(ctx) })
	wg.Wait()
	if err := cmp.Or(policyErr, trustErr, ffErr); err != nil {
		return err
	}
	v, err := verify.New(tm, verify.Options{Policy: verify.Policy{Rules: file.Rules}, Log: rekorLog(cfg), InsecureIgnoreSCT: cfg.InsecureIgnoreSCT})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	relaxGC()
	j.checkRefs()
	check := func(ctx context.Context, o gitrepo.Object) objectReport { return j.check(ctx, v, o) }
	err = verifyStream(ctx, src, runtime.GOMAXPROCS(0), check, func(r objectReport) error {
		if r.Verified {
			j.verified++
			warnSCTIgnored(j.s.err, r.Object, r.SCTIgnored)
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
