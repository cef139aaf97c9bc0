package verify

// The sweep: no signed object can change its id and stay good.
//
// Every byte of a signature must be signed, logged or fixed by a rule, or
// a third party could change a signed commit's bytes (and so its id) and
// keep a good signature. A list of the fields someone thought of does not
// prove that; this test tries them all. For every vector (sweepVector:
// the real public-good signatures and the local ones in every mode) it
// verifies thousands of signatures that each differ from the good one in
// one way, and every one must be refused, except the variants listed in
// acceptedVariants, each with its reason (docs/security.md, "What the
// verifier accepts", repeats them), which must verify:
//
//   - der: a byte of the DER changed (every offset and six values each in
//     the full sweep; otherwise 400 random offsets, one of the six values
//     each);
//   - cms: each field of the signature's SignedData changed, dropped or
//     duplicated, then re-encoded canonically (mutate_test.go);
//   - attribute: an unsigned attribute dropped, duplicated, or taken from
//     another vector;
//   - entry: each field of the embedded log entry, inclusion proof and
//     checkpoint changed, dropped, duplicated or added, then re-encoded
//     canonically (mutate_entry_test.go);
//   - token: each field of the timestamp token's SignedData, the same way;
//   - object: a line of the whole object (as `gitsign verify` reads it)
//     dropped or repeated, or another gpgsig... header, a continuation
//     line, an ordinary header or an empty line inserted at every line
//     (mutate_object_test.go).
//
// `make test` runs the field-level classes whole and a sample of the DER
// offsets; `make sweep` (GITSIGN_SWEEP=full) runs everything. A failure
// names the vector and the mutation; GITSIGN_SWEEP_SEED repeats a sample.

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/github/smimesign/ietf-cms/protocol"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// acceptedVariant is a mutation that is known to verify, in the vectors
// of the given modes, and why that is acceptable.
type acceptedVariant struct {
	mutation string
	modes    []string
	reason   string
}

// v1Embedded are the modes whose signatures embed a Rekor v1 entry.
var v1Embedded = []string{"realworld", "offline", "offline-tsa"}

var acceptedVariants = []acceptedVariant{
	{"entry: inclusion_promise.signed_entry_timestamp: ECDSA twin", v1Embedded,
		"the log's own ECDSA signature (r, s) over the entry also verifies as (r, n-s), and nothing else records which one the log made; it proves the same statement by the same key"},
	{"entry: inclusion_proof.checkpoint.envelope: checkpoint signature ECDSA twin", v1Embedded,
		"the same for the Rekor v1 checkpoint's ECDSA signature (Rekor v2 checkpoints are Ed25519, which has no twin)"},
	{"token: signature ECDSA twin", []string{"offline-tsa", "rekor2-tsa"},
		"the same for the timestamp authority's ECDSA signature over the token"},
	{"attribute: timestamp token dropped", []string{"offline-tsa"},
		"nothing signed records that a Rekor v1 signature had a timestamp token; without it the log's signed entry timestamp still proves the time, so the rest verifies: the same signer, object and log entry, with one proof of time fewer"},
}

// accepted returns the variant that lists mutation for mode, if any.
func accepted(mode, mutation string) *acceptedVariant {
	for i, a := range acceptedVariants {
		if a.mutation == mutation && slices.Contains(a.modes, mode) {
			return &acceptedVariants[i]
		}
	}
	return nil
}

// sweepConfig says how much of the sweep to run.
type sweepConfig struct {
	full bool
	rng  *rand.Rand
	// derSample is how many DER offsets a vector gets when not full.
	derSample int
}

func newSweepConfig(t *testing.T) sweepConfig {
	seed := uint64(rand.Int64())
	if s := os.Getenv("GITSIGN_SWEEP_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("GITSIGN_SWEEP_SEED: %v", err)
		}
	}
	c := sweepConfig{full: os.Getenv("GITSIGN_SWEEP") == "full", rng: rand.New(rand.NewPCG(seed, 17)), derSample: 400}
	t.Logf("sweep: full=%v seed=%d (GITSIGN_SWEEP_SEED=%d repeats this sample)", c.full, seed, seed)
	return c
}

func TestSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("the sweep verifies thousands of signatures")
	}
	cfg := newSweepConfig(t)
	vecs := sweepVectors(t)
	total := map[string]int{}
	for _, vec := range vecs {
		t.Run(vec.name, func(t *testing.T) {
			muts := mutationsOf(t, vec, vecs, cfg)
			for _, a := range acceptedVariants {
				if slices.Contains(a.modes, vec.mode) && !slices.ContainsFunc(muts, func(m mutation) bool { return m.name == a.mutation }) {
					t.Errorf("the sweep did not try %q, which it lists as accepted for %s signatures", a.mutation, vec.mode)
				}
			}
			for class, n := range sweep(t, vec, muts) {
				total[class] += n
			}
		})
	}
	t.Logf("sweep: mutations tried, by class: %v", total)
}

// sweep verifies each mutation of vec and fails the test for every one
// that verifies without being listed, and every listed one that does not
// verify. It returns how many were checked, by class.
func sweep(t *testing.T, vec sweepVector, muts []mutation) map[string]int {
	type verdict struct {
		m   mutation
		err error
	}
	work := make(chan mutation)
	results := make(chan verdict)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				var err error
				if m.raw != nil {
					_, err = vec.verifyObject(m.raw)
				} else {
					_, err = vec.verify(m.sig)
				}
				results <- verdict{m, err}
			}
		}()
	}
	go func() {
		for _, m := range muts {
			work <- m
		}
		close(work)
		wg.Wait()
		close(results)
	}()
	counts := map[string]int{}
	for r := range results {
		class, _, _ := strings.Cut(r.m.name, ":")
		counts[class]++
		a := accepted(vec.mode, r.m.name)
		switch {
		case r.err == nil && a == nil:
			t.Errorf("%s: %s: still verifies", vec.name, r.m.name)
		case r.err != nil && a != nil:
			t.Errorf("%s: %s: listed as accepted (%s), but refused: %v", vec.name, r.m.name, a.reason, r.err)
		}
	}
	return counts
}

// mutationsOf returns every mutation of vec's signature the
// configuration asks for, each different from the signature and from the
// others.
func mutationsOf(t *testing.T, vec sweepVector, all []sweepVector, cfg sweepConfig) []mutation {
	t.Helper()
	der, err := cms.Dearmor(vec.sig)
	if err != nil {
		t.Fatal(err)
	}
	offsets := make([]int, len(der))
	for i := range offsets {
		offsets[i] = i
	}
	var out []mutation
	if cfg.full {
		out = derByteMutations(der, offsets, byteValues)
	} else {
		cfg.rng.Shuffle(len(offsets), func(i, j int) { offsets[i], offsets[j] = offsets[j], offsets[i] })
		out = derByteMutations(der, offsets[:min(cfg.derSample, len(offsets))], func(old byte) []byte {
			values := byteValues(old)
			return []byte{values[cfg.rng.IntN(len(values))]}
		})
	}
	out = append(out, signedDataEdits("cms: ", der, armorSignedData)...)
	out = append(out, signerTwin(t, der))
	out = append(out, attributeMutations(t, vec, all)...)
	p, err := cms.Parse(vec.sig)
	if err != nil {
		t.Fatal(err)
	}
	if raw := p.UnsignedAttribute(rekor.OIDTransparencyLogEntry); raw != nil {
		var octets []byte
		if _, err := asn1.Unmarshal(raw, &octets); err != nil {
			t.Fatal(err)
		}
		tle, err := rekor.DecodeEntry(octets)
		if err != nil {
			t.Fatal(err)
		}
		plausible := map[string]int64{"the signing time": p.SigningTime.Unix(), "the signing time +1s": p.SigningTime.Unix() + 1}
		for _, e := range entryEdits(tle, plausible) {
			b, err := encodeEntry(e.tle)
			if err != nil {
				continue
			}
			out = append(out, mutation{name: e.name, sig: withAttribute(t, vec.sig, rekor.OIDTransparencyLogEntry, b)})
		}
	}
	if token := p.UnsignedAttribute(tsa.OIDTimeStampToken); token != nil {
		encode := func(sd *protocol.SignedData) ([]byte, error) {
			b, err := sd.ContentInfoDER()
			if err != nil {
				return nil, err
			}
			return withAttribute(t, vec.sig, tsa.OIDTimeStampToken, asn1.RawValue{FullBytes: b}), nil
		}
		out = append(out, signedDataEdits("token: ", token, encode)...)
		out = append(out, tokenTwin(t, token, encode))
	}
	out = distinct(vec.sig, out)
	seen := map[string]bool{string(vec.raw): true}
	for _, m := range objectMutations(vec.raw) {
		if !seen[string(m.raw)] {
			seen[string(m.raw)] = true
			out = append(out, mutation{name: m.name, raw: m.raw})
		}
	}
	return out
}

// distinct drops mutations that are the signature itself or repeat an
// earlier one's bytes.
func distinct(sig []byte, muts []mutation) []mutation {
	seen := map[string]bool{string(sig): true}
	var out []mutation
	for _, m := range muts {
		if m.sig != nil && !seen[string(m.sig)] {
			seen[string(m.sig)] = true
			out = append(out, m)
		}
	}
	return out
}

// armorSignedData encodes an edited signature.
func armorSignedData(sd *protocol.SignedData) ([]byte, error) {
	der, err := sd.ContentInfoDER()
	if err != nil {
		return nil, err
	}
	return cms.Armor(der), nil
}

// signerTwin is the signature with the ECDSA twin of the signer's value.
func signerTwin(t *testing.T, der []byte) mutation {
	t.Helper()
	p, err := cms.ParseDER(der)
	if err != nil {
		t.Fatal(err)
	}
	tw, ok := twin(p.Signer.Signature)
	if !ok {
		t.Fatal("the signer's value is not an ECDSA signature")
	}
	p.SignedData.SignerInfos[0].Signature = tw
	sig, err := armorSignedData(p.SignedData)
	if err != nil {
		t.Fatal(err)
	}
	return mutation{name: "cms: signature ECDSA twin", sig: sig}
}

// tokenTwin is the signature with the ECDSA twin of the timestamp
// authority's value in its token.
func tokenTwin(t *testing.T, token []byte, encode func(*protocol.SignedData) ([]byte, error)) mutation {
	t.Helper()
	sd := signedDataOf(t, token)
	tw, ok := twin(sd.SignerInfos[0].Signature)
	if !ok {
		t.Fatal("the timestamp token's value is not an ECDSA signature")
	}
	sd.SignerInfos[0].Signature = tw
	sig, err := encode(sd)
	if err != nil {
		t.Fatal(err)
	}
	return mutation{name: "token: signature ECDSA twin", sig: sig}
}

// attributeMutations drop each unsigned attribute, give each a second
// value or a second copy, and replace or add each kind with the one of
// every other vector that has it.
func attributeMutations(t *testing.T, vec sweepVector, all []sweepVector) []mutation {
	t.Helper()
	names := map[string]string{rekor.OIDTransparencyLogEntry.String(): "log entry", tsa.OIDTimeStampToken.String(): "timestamp token"}
	var out []mutation
	edit := func(name string, f func(attrs protocol.Attributes) protocol.Attributes) {
		p, err := cms.Parse(vec.sig)
		if err != nil {
			t.Fatal(err)
		}
		si := &p.SignedData.SignerInfos[0]
		si.UnsignedAttrs = f(slices.Clone(si.UnsignedAttrs))
		if sig, err := armorSignedData(p.SignedData); err == nil {
			out = append(out, mutation{name: "attribute: " + name, sig: sig})
		}
	}
	p, err := cms.Parse(vec.sig)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range p.Signer.UnsignedAttrs {
		name := names[a.Type.String()]
		edit(name+" dropped", func(attrs protocol.Attributes) protocol.Attributes { return slices.Delete(attrs, i, i+1) })
		edit(name+" repeated", func(attrs protocol.Attributes) protocol.Attributes { return append(attrs, attrs[i]) })
		edit(name+" with a second value", func(attrs protocol.Attributes) protocol.Attributes {
			v := attrs[i].RawValue
			doubled := append(bytes.Clone(v.Bytes), v.Bytes...)
			full, err := asn1.Marshal(asn1.RawValue{Class: v.Class, Tag: v.Tag, IsCompound: true, Bytes: doubled})
			if err != nil {
				t.Fatal(err)
			}
			attrs[i].RawValue = asn1.RawValue{FullBytes: full}
			return attrs
		})
	}
	for _, other := range all {
		if other.name == vec.name {
			continue
		}
		op, err := cms.Parse(other.sig)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range op.Signer.UnsignedAttrs {
			name := fmt.Sprintf("%s taken from %s", names[a.Type.String()], other.name)
			edit(name, func(attrs protocol.Attributes) protocol.Attributes {
				attrs = slices.DeleteFunc(attrs, func(b protocol.Attribute) bool { return b.Type.Equal(a.Type) })
				return append(attrs, a)
			})
		}
	}
	return out
}

// withAttribute returns sig with the value of its unsigned attribute typ
// (added if absent) replaced by value, re-encoded in DER.
func withAttribute(t *testing.T, sig []byte, typ asn1.ObjectIdentifier, value any) []byte {
	t.Helper()
	p, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	attr, err := protocol.NewAttribute(typ, value)
	if err != nil {
		t.Fatal(err)
	}
	si := &p.SignedData.SignerInfos[0]
	si.UnsignedAttrs = slices.DeleteFunc(slices.Clone(si.UnsignedAttrs), func(a protocol.Attribute) bool { return a.Type.Equal(typ) })
	si.UnsignedAttrs = append(si.UnsignedAttrs, attr)
	out, err := armorSignedData(p.SignedData)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signedDataOf decodes the SignedData of a DER ContentInfo.
func signedDataOf(t *testing.T, der []byte) *protocol.SignedData {
	t.Helper()
	ci, err := cms.ContentInfo(der)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := ci.SignedDataContent()
	if err != nil {
		t.Fatal(err)
	}
	return sd
}
