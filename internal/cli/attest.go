package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/gitsign"
	"github.com/gitsign-dev/gitsign/internal/attest"
	"github.com/gitsign-dev/gitsign/internal/dsse"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// attestOptions are gitsign attest's flags, named as the reference names
// them.
type attestOptions struct {
	path, objectType, predicateType string
}

func newAttestCommand(s streams) *cobra.Command {
	o := &attestOptions{}
	cmd := &cobra.Command{
		Use:               "attest -f FILE [--objtype commit|tree] [--type URI] [REVISION]",
		ValidArgsFunction: completeRevisions(false),
		Short:             "Sign a JSON predicate about a commit or tree and store it under refs/attestations/",
		Long: `Sign FILE, a JSON object, as the predicate of an in-toto statement about a
commit (default HEAD) or, with --objtype tree, its tree, and store it as
sigstore/gitsign does: on refs/attestations/commits (or .../trees), a commit
whose tree holds a folder named by the object's id with FILE's base name
and NAME.sig, a DSSE envelope (application/vnd.in-toto+json) signed with a
Fulcio certificate, exactly as a commit is signed (login, credential cache,
timestamp authority, Rekor v1 or v2). NAME.sig also keeps the certificate
and the log entry with its proof, so gitsign verify-attestation checks it
with no network. Other attestations on the ref are kept; a file of the same
name for the same object is replaced. Prints the new attestations commit.
Share attestations with: git push origin 'refs/attestations/*'.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError("gitsign attest takes at most one revision, got %d arguments", len(args)).hint("usage: %s", cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rev := "HEAD"
			if len(args) == 1 {
				rev = args[0]
			}
			return o.run(rev, s)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.path, "filepath", "f", "", "the predicate: a file holding one JSON object (required)")
	fl.StringVar(&o.objectType, "objtype", "commit", "what to attest: commit, or tree (the commit's tree)")
	fl.StringVar(&o.predicateType, "type", "", "the predicate type URI (e.g. https://slsa.dev/provenance/v1)")
	return cmd
}

func (o *attestOptions) run(rev string, s streams) error {
	ctx, stop := signalContext()
	defer stop()
	if o.path == "" {
		return usageError("gitsign attest needs the predicate file: -f FILE")
	}
	ref, digestName, err := attest.RefFor(o.objectType)
	if err != nil {
		return usageError("--objtype %s: want commit or tree", printable.Quote(o.objectType))
	}
	if err := checkRepository(ctx); err != nil {
		return err
	}
	name := filepath.Base(o.path)
	if err := attest.CheckName(name); err != nil {
		return err
	}
	id, err := gitrepo.Resolve(ctx, rev, o.objectType)
	if err != nil {
		return err
	}
	predicate, err := readPredicate(o.path)
	if err != nil {
		return err
	}
	statement, err := attest.NewStatement(digestName, id, o.predicateType, predicate)
	if err != nil {
		return fmt.Errorf("%s: %w", printable.String(o.path), err)
	}
	cfg, unknownKeys, err := loadConfigKeys(ctx)
	if err != nil {
		return err
	}
	msgs, fb, fail := signSession(cfg)
	defer msgs.Close()
	warnUnknownKeys(unknownKeys, msgs.Warnf, msgs.Hintf)
	signer, err := gitsign.New(signerOptions(cfg, fb))
	if err != nil {
		return fail(err)
	}
	cred, _, err := signer.Credential(ctx)
	if err != nil {
		return fail(err)
	}
	env, err := signer.SignEnvelope(ctx, cred, dsse.PayloadTypeInToto, statement)
	if err != nil {
		return fail(err)
	}
	sig, err := attest.EncodeSig(env.JSON, env.Cert, env.Entry, env.Timestamp)
	if err != nil {
		return fail(err)
	}
	if selfChecks(cfg) {
		// As for a commit: what is stored must verify as it will be.
		v, err := selfVerifier(cfg, env.Cert, nil)
		if err != nil {
			return fail(err)
		}
		file := attest.File{Name: name, Predicate: predicate, Sig: sig}
		if o := attest.Check(v, digestName, id, file); o.Err != nil {
			return fail(fmt.Errorf("the new attestation does not verify, so it was not stored: %w", o.Err))
		}
	}
	commit, err := attest.Add(ctx, ref, id, name, predicate, sig)
	if err != nil {
		return fail(err)
	}
	if _, err := fmt.Fprintln(s.out, commit); err != nil {
		return err
	}
	msgs.Infof("attested %s %s as %s, log index %d: %s is now %s", o.objectType, id, printable.String(name), env.Entry.GetLogIndex(), ref, commit)
	return nil
}

// readPredicate reads the predicate file, at most attest.MaxPredicateSize
// bytes.
func readPredicate(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("predicate file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, attest.MaxPredicateSize+1))
	if err != nil {
		return nil, fmt.Errorf("predicate file %s: %w", printable.String(path), err)
	}
	if len(b) > attest.MaxPredicateSize {
		return nil, fmt.Errorf("predicate file %s is more than the %d bytes allowed", printable.String(path), attest.MaxPredicateSize)
	}
	return b, nil
}
