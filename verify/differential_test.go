package verify

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"testing"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"google.golang.org/protobuf/proto"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// TestNewBundleDifferential: newBundle parses log entries once instead of
// letting bundle.NewBundle validate them (bundle.go), so one rule of
// sigstore-go's validation is ours. It must refuse at least every bundle
// bundle.NewBundle refuses. The inputs are every vector and every
// mutation of the sweep that still reads as a signature with a log entry,
// and every field-level edit of each entry, read leniently (without this
// package's own form rules) so that the constructors see them all. Rerun
// on every sigstore-go upgrade.
func TestNewBundleDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("builds thousands of bundles")
	}
	cfg := newSweepConfig(t)
	vecs := sweepVectors(t)
	tried, refusedByBoth, refusedByUs := 0, 0, 0
	check := func(name string, in bundleInput) {
		tried++
		_, ours := newBundle(in.cert, in.content, in.tle, in.timestamps)
		_, theirs := bundle.NewBundle(protoBundle(in.cert, in.content, in.tle, in.timestamps))
		switch {
		case theirs != nil && ours == nil:
			t.Errorf("%s: bundle.NewBundle refuses it (%v), newBundle does not", name, theirs)
		case theirs != nil:
			refusedByBoth++
		case ours != nil:
			refusedByUs++
		}
	}
	for _, vec := range vecs {
		in, ok := readBundleInput(vec.sig, vec)
		if !ok {
			t.Fatalf("%s: no bundle input", vec.name)
		}
		check(vec.name, in)
		for _, e := range entryEdits(in.tle, nil) {
			c := in
			c.tle = e.tle
			check(vec.name+": "+e.name, c)
		}
		for _, m := range mutationsOf(t, vec, vecs, cfg) {
			if m.sig == nil {
				continue
			}
			if in, ok := readBundleInput(m.sig, vec); ok {
				check(vec.name+": "+m.name, in)
			}
		}
	}
	t.Logf("%d bundles: %d refused by both, %d by newBundle alone", tried, refusedByBoth, refusedByUs)
}

// bundleInput is what verifyBundle builds a bundle from.
type bundleInput struct {
	cert       *x509.Certificate
	content    content
	tle        *protorekor.TransparencyLogEntry
	timestamps [][]byte
}

// readBundleInput reads what Verify would build the bundle from, but
// leniently: any entry that decodes as protobuf, whatever its form, with
// a hashedrekord v0.0.1 body rebuilt; for online-mode vectors, the entry
// the log holds for the vector itself.
func readBundleInput(sig []byte, vec sweepVector) (bundleInput, bool) {
	p, err := cms.Parse(sig)
	if err != nil {
		return bundleInput{}, false
	}
	attrs, err := p.SignedAttributes()
	if err != nil {
		return bundleInput{}, false
	}
	in := bundleInput{cert: p.Cert, content: messageSignature(attrs, p.Signer.Signature)}
	if tok := p.UnsignedAttribute(tsa.OIDTimeStampToken); tok != nil {
		in.timestamps = [][]byte{timeStampResp(tok)}
	}
	raw := p.UnsignedAttribute(rekor.OIDTransparencyLogEntry)
	if raw == nil {
		return onlineBundleInput(vec)
	}
	var octets []byte
	if _, err := asn1.Unmarshal(raw, &octets); err != nil {
		return bundleInput{}, false
	}
	in.tle = &protorekor.TransparencyLogEntry{}
	if err := proto.Unmarshal(octets, in.tle); err != nil {
		return bundleInput{}, false
	}
	if in.tle.GetKindVersion().GetVersion() == "0.0.1" && len(in.tle.CanonicalizedBody) == 0 {
		digest := sha256.Sum256(attrs)
		in.tle.CanonicalizedBody, _ = rekor.HashedRekordV001(digest[:], p.Signer.Signature, p.Cert)
	}
	return in, true
}

// onlineBundleInput is the bundle input of an online-mode vector: its
// entry from the recorded log, over the object id.
func onlineBundleInput(vec sweepVector) (bundleInput, bool) {
	p, err := cms.Parse(vec.sig)
	if err != nil {
		return bundleInput{}, false
	}
	attrs, err := p.SignedAttributes()
	if err != nil {
		return bundleInput{}, false
	}
	tle, entrySig, artifact, err := vec.v.online(context.Background(), p, attrs, func() (string, error) {
		return gitobj.ID(vec.typ, vec.raw), nil
	})
	if err != nil {
		return bundleInput{}, false
	}
	return bundleInput{cert: p.Cert, content: messageSignature(artifact, entrySig), tle: tle}, true
}
