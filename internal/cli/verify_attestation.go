package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/attest"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// verifyAttestationFlags are verify's policy and trust flags, and which
// attestations to check.
type verifyAttestationFlags struct {
	verifyFlags
	objectType, predicateType string
}

func newVerifyAttestationCommand(s streams) *cobra.Command {
	f := &verifyAttestationFlags{}
	cmd := &cobra.Command{
		Use:               "verify-attestation [--objtype commit|tree] [--type URI] [REVISION]...",
		ValidArgsFunction: completeRevisions(false),
		Short:             "Verify the attestations gitsign attest stored for commits or trees",
		Long: `Verify the attestations stored for each REVISION (default HEAD) on
refs/attestations/commits, or for its tree on refs/attestations/trees with
--objtype tree: each NAME.sig in the object's folder is checked offline, as
gitsign verify checks a commit (signature, certificate chain, transparency
log proof, timestamp, and who signed, against the same policy: an
allowed-signers file or the --certificate-* flags, or git config), then
that its statement is about this object and nothing else, and that the
file NAME beside it is the predicate it signs. With --type, only
attestations of that predicate type count. Prints each result and the
verified predicate (with --json, one JSON document). Exits 0 only if every
object has at least one attestation that verified; attestations that do
not verify are reported, not trusted. Fetch attestations with:
git fetch origin 'refs/attestations/*:refs/attestations/*'.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"HEAD"}
			}
			return f.run(cmd.Context(), args, s)
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.objectType, "objtype", "commit", "which attestations: of the commit, or of its tree")
	fl.StringVar(&f.predicateType, "type", "", "only attestations of this predicate type URI")
	return cmd
}

// attestationResult is one element of verify-attestation's "results".
type attestationResult struct {
	verifyResult
	Name          string          `json:"name"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate,omitempty"` // when verified
}

func (f *verifyAttestationFlags) run(ctx context.Context, revs []string, s streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := f.checkUsage(); err != nil {
		return err
	}
	ref, digestName, err := attest.RefFor(f.objectType)
	if err != nil {
		return usageError("--objtype %s: want commit or tree", printable.Quote(f.objectType))
	}
	if err := checkRepository(ctx); err != nil {
		return err
	}
	cfg, err := loadConfigWarning(ctx, s.err)
	if err != nil {
		return err
	}
	v, _, err := f.verifier(ctx, cfg, s)
	if err != nil {
		return err
	}
	ids := make([]string, len(revs))
	for i, rev := range revs {
		if ids[i], err = gitrepo.Resolve(ctx, rev, f.objectType); err != nil {
			return err
		}
	}
	var results []attestationResult
	var missing []string
	for _, id := range ids {
		files, err := attest.List(ctx, ref, id)
		if err != nil && !errors.Is(err, attest.ErrNone) {
			return err
		}
		good := 0
		for _, file := range files {
			o := attest.Check(v, digestName, id, file)
			if f.predicateType != "" && (o.Statement == nil || o.Statement.PredicateType != f.predicateType) {
				continue
			}
			rep := reportOf(id, f.objectType, o.Result, o.Err)
			warnSCTIgnored(s.err, id+" "+o.Name, rep.SCTIgnored)
			r := attestationResult{verifyResult: rep.result(), Name: o.Name}
			if o.Statement != nil {
				r.PredicateType = o.Statement.PredicateType
			}
			if o.Err == nil {
				r.Predicate = o.Statement.Predicate
				good++
			}
			results = append(results, r)
			if !f.json {
				if err := writeAttestation(s.out, r); err != nil {
					return err
				}
			}
		}
		if good == 0 {
			missing = append(missing, id)
		}
	}
	if f.json {
		if err := writeJSONResults(s.out, results); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		what := "attestation"
		if f.predicateType != "" {
			what += " of type " + printable.String(f.predicateType)
		}
		return &exitError{code: 1, err: fmt.Errorf("%d of %d %ss have no %s that verified (%s)", len(missing), len(ids), f.objectType, what, missing[0])}
	}
	return nil
}

// writeAttestation prints one result: a line like gitsign verify's, then
// the predicate type and, when verified, the predicate on one line.
func writeAttestation(w io.Writer, r attestationResult) error {
	var b bytes.Buffer
	if r.Verified {
		fmt.Fprintf(&b, "%s %s: attestation %s: good signature from %s (issuer %s), log index %d, %s, accepted by %s\n",
			r.Object, r.Type, printable.String(r.Name), printable.ASCII(r.Signer.Identity), printable.ASCII(r.Signer.Issuer),
			r.Log.Index, r.Time.UTC().Format(time.RFC3339), printable.String(r.Rule))
	} else {
		fmt.Fprintf(&b, "%s %s: attestation %s: FAILED: %s\n", r.Object, r.Type, printable.String(r.Name), printable.String(r.Error))
	}
	fmt.Fprintf(&b, "  predicate type: %s\n", printable.String(r.PredicateType))
	if r.Verified {
		fmt.Fprintf(&b, "  predicate: %s\n", printable.JSON(r.Predicate))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeJSONResults prints {"schema":1,"results":[...]}.
func writeJSONResults(w io.Writer, results []attestationResult) error {
	if results == nil {
		results = []attestationResult{}
	}
	b, err := json.MarshalIndent(struct {
		Schema  int                 `json:"schema"`
		Results []attestationResult `json:"results"`
	}{jsonSchema, results}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(printable.JSON(append(b, '\n')))
	return err
}
