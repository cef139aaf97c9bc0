package cli

// gitsign show: what a commit's or tag's signature says, judged by
// nothing (package inspect), with the allowed-signers lines that would
// accept its signer. It is what a person runs to write a policy.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/inspect"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

func newShowCommand(s streams) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:               "show [REVISION]",
		ValidArgsFunction: completeRevisions(false),
		Short:             "Describe the signature of a commit or tag, without verifying it",
		Long: `Describe the signature of a commit or an annotated tag (default HEAD): the
signer's identity and OIDC issuer, the CI claims in the certificate, the
certificate's serial, validity and fingerprint, the signing time the signer
claims, the transparency log entry embedded in it (or that there is none:
online mode) and the time of an RFC 3161 timestamp, and then the
allowed-signers lines that would accept this signer. Nothing is verified and
nothing is looked up on the network: use it to write a policy, and gitsign
verify to check one.

REVISION is resolved by git as typed. When it names a tag object (an
annotated tag such as v1.0), the tag's own signature is shown; to show the
commit the tag points at, write v1.0^{commit}. A lightweight tag has no
signature of its own and is refused.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError("gitsign show takes at most one revision, got %d arguments", len(args)).hint("usage: %s", cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rev := "HEAD"
			if len(args) == 1 {
				rev = args[0]
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return runShow(ctx, s, rev, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object (fields: docs/json.md)")
	return cmd
}

// shown is gitsign show's JSON document (docs/json.md).
type shown struct {
	Schema int    `json:"schema"` // jsonSchema
	Object string `json:"object"`
	Type   string `json:"type"`
	*inspect.Description
	// AllowedSigners are the suggested allowed-signers lines.
	AllowedSigners []string `json:"allowedSigners"`
}

func runShow(ctx context.Context, s streams, rev string, asJSON bool) error {
	if err := checkRepository(ctx); err != nil {
		return err
	}
	o, err := resolveShown(ctx, rev)
	if err != nil {
		return err
	}
	_, sig, err := o.Split()
	if err != nil {
		if err.Error() == o.Type+" is not signed" { // gitobj's words
			return fmt.Errorf("%s %s is not signed", o.Type, o.ID)
		}
		return fmt.Errorf("%s %s: %v", o.Type, o.ID, err)
	}
	d, err := inspect.Signature(sig)
	if err != nil {
		e := &exitError{code: 1, err: fmt.Errorf("cannot describe the signature of %s %s: %w", o.Type, o.ID, err)}
		if other := cms.ForeignKind(sig); other != "" {
			e.hint("it is %s, not a gitsign signature: git verify-%s checks it with gpg.format set accordingly", other, o.Type)
		}
		return e
	}
	doc := shown{Schema: jsonSchema, Object: o.ID, Type: o.Type, Description: d, AllowedSigners: suggestions(d)}
	if asJSON {
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		_, err = s.out.Write(printable.JSON(append(b, '\n')))
		return err
	}
	return writeShown(s.out, doc)
}

// resolveShown finds the object rev names, as git resolves it, and reads
// it: a tag object shows the tag, a commit the commit. A name that git
// resolves through refs/tags/ to anything but a tag object is a
// lightweight tag, refused with what to show instead.
func resolveShown(ctx context.Context, rev string) (gitrepo.Object, error) {
	id, err := gitrepo.Resolve(ctx, rev, "")
	var nf *gitrepo.NotFoundError
	if errors.As(err, &nf) && nf.Unborn == "" {
		return gitrepo.Object{}, fmt.Errorf("%s is not a commit or tag in this repository", rev)
	}
	if err != nil {
		return gitrepo.Object{}, revisionError(err)
	}
	t, err := gitrepo.Git(ctx, nil, "cat-file", "-t", id)
	if err != nil {
		return gitrepo.Object{}, err
	}
	typ := strings.TrimSpace(string(t))
	if typ != "tag" {
		ref, _ := gitrepo.Git(ctx, nil, "rev-parse", "--verify", "--quiet", "--symbolic-full-name", "--end-of-options", rev)
		if name, ok := strings.CutPrefix(strings.TrimSpace(string(ref)), "refs/tags/"); ok {
			e := &exitError{code: 1, err: fmt.Errorf("tag %s is a lightweight tag: it has no signature of its own", name)}
			if q, ok := printable.ShellQuote(rev + "^{commit}"); ok && typ == "commit" {
				if strings.HasPrefix(rev, "-") {
					q = "-- " + q // a revision, not an option
				}
				e.hint("show the commit it names: gitsign show %s", q)
			}
			return gitrepo.Object{}, e
		}
		if typ != "commit" {
			return gitrepo.Object{}, fmt.Errorf("%s is a %s, not a commit or tag", rev, typ)
		}
	}
	objects, err := gitrepo.ReadObjects(ctx, []string{id})
	if err != nil {
		return gitrepo.Object{}, err
	}
	return objects[0], nil
}

// suggestions are the allowed-signers lines that accept d's signer: the
// identity from the issuer and, for a certificate with CI claims, the same
// pinned to the source repository and ref it was made from. A value that
// no allowed-signers line can hold gets no line.
func suggestions(d *inspect.Description) []string {
	line := allowedsigners.Line(d.Identity, d.Issuer)
	if line == "" {
		return []string{}
	}
	out := []string{line}
	var pinned certificate.Extensions
	pinned.SourceRepositoryURI, _ = d.Claims.Get("source-repository-uri")
	pinned.SourceRepositoryRef, _ = d.Claims.Get("source-repository-ref")
	if pinned.SourceRepositoryURI != "" {
		if l := allowedsigners.LineWith(d.Identity, d.Issuer, pinned); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// writeShown prints doc as "key: value" lines, every value escaped.
func writeShown(w io.Writer, doc shown) error {
	d := doc.Description
	var lines [][2]string
	add := func(k, v string) { lines = append(lines, [2]string{k, v}) }
	add("object", doc.Object)
	add("type", doc.Type)
	add("identity", d.Identity)
	add("identity-type", d.IdentityType)
	add("issuer", d.Issuer)
	for _, c := range d.Claims {
		add(c.Name, c.Value)
	}
	add("certificate-serial", d.Certificate.Serial)
	add("certificate-not-before", stamp(d.Certificate.NotBefore))
	add("certificate-not-after", stamp(d.Certificate.NotAfter))
	add("certificate-fingerprint", d.Certificate.Fingerprint)
	add("signing-time", stamp(d.SigningTime)+" (the signer's claim)")
	if d.Log == nil {
		add("mode", "online (no log entry embedded: Rekor holds it under the object id, not looked up here)")
	} else {
		add("mode", "offline (log entry embedded)")
		l := d.Log
		name := "hashedrekord " + l.KindVersion
		if l.Rekor != "" {
			name = "rekor " + l.Rekor + " (" + name + ")"
		}
		add("log", name)
		add("log-index", fmt.Sprint(l.Index))
		if !l.IntegratedTime.IsZero() {
			add("log-integrated-time", stamp(l.IntegratedTime))
		}
		add("log-id", l.LogID)
		if l.CheckpointOrigin != "" {
			add("log-checkpoint-origin", l.CheckpointOrigin)
		}
	}
	if t := d.Timestamp; t != nil {
		add("timestamp-time", stamp(t.Time))
		add("timestamp-serial", t.Serial)
		if t.Authority != "" {
			add("timestamp-authority", t.Authority)
		}
	}
	for _, l := range doc.AllowedSigners {
		add("allowed-signers", l)
	}
	var b strings.Builder
	for _, kv := range lines {
		fmt.Fprintf(&b, "%s: %s\n", printable.String(kv[0]), printable.String(kv[1]))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// stamp writes a time as gitsign verify does: RFC 3339 in UTC, with
// fractions of a second when it has them.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
