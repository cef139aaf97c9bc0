package verify

import (
	"encoding/asn1"
	"encoding/json"
	"testing"

	"github.com/github/smimesign/ietf-cms/protocol"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/proto"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// graftEntry returns sig with its embedded log entry replaced by donor's.
func graftEntry(t *testing.T, sig, donor []byte) []byte {
	return swapAttribute(t, sig, donor, rekor.OIDTransparencyLogEntry)
}

// swapToken returns sig with its timestamp token replaced by donor's.
func swapToken(t *testing.T, sig, donor []byte) []byte {
	return swapAttribute(t, sig, donor, tsa.OIDTimeStampToken)
}

// swapAttribute returns sig with its unsigned attribute of type typ
// replaced by donor's.
func swapAttribute(t *testing.T, sig, donor []byte, typ asn1.ObjectIdentifier) []byte {
	t.Helper()
	p, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	d, err := cms.Parse(donor)
	if err != nil {
		t.Fatal(err)
	}
	si := &p.SignedData.SignerInfos[0]
	for i, a := range si.UnsignedAttrs {
		if !a.Type.Equal(typ) {
			continue
		}
		for _, b := range d.Signer.UnsignedAttrs {
			if b.Type.Equal(typ) {
				si.UnsignedAttrs[i] = b
			}
		}
	}
	der, err := p.SignedData.ContentInfoDER()
	if err != nil {
		t.Fatal(err)
	}
	return cms.Armor(der)
}

func dropIntermediates(m map[string]any) {
	for _, ca := range m["certificateAuthorities"].([]any) {
		chain := ca.(map[string]any)["certChain"].(map[string]any)
		certs := chain["certificates"].([]any)
		chain["certificates"] = certs[len(certs)-1:] // keep only the root
	}
}

func verifierWithEditedRoot(t *testing.T, edit func(map[string]any)) *Verifier {
	t.Helper()
	return verifierWithEditedRootOpts(t, edit, Options{Policy: billy})
}

// verifierWithEditedRootOpts is verifierWithEditedRoot with options o.
func verifierWithEditedRootOpts(t *testing.T, edit func(map[string]any), o Options) *Verifier {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(publicGoodRoot, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ := json.Marshal(m)
	tr, err := root.NewTrustedRootFromJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(tr, o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// editEntry returns sig with its embedded log entry changed by edit.
func editEntry(t *testing.T, sig []byte, edit func(*protorekor.TransparencyLogEntry)) []byte {
	t.Helper()
	p, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	si := &p.SignedData.SignerInfos[0]
	for i, a := range si.UnsignedAttrs {
		if !a.Type.Equal(rekor.OIDTransparencyLogEntry) {
			continue
		}
		v, err := a.Value()
		if err != nil || len(v.Elements) != 1 {
			t.Fatal("bad attribute")
		}
		tle, err := rekor.DecodeEntry(v.Elements[0].Bytes)
		if err != nil {
			t.Fatal(err)
		}
		edit(tle)
		b, err := proto.Marshal(tle)
		if err != nil {
			t.Fatal(err)
		}
		attr, err := protocol.NewAttribute(rekor.OIDTransparencyLogEntry, b)
		if err != nil {
			t.Fatal(err)
		}
		si.UnsignedAttrs[i] = attr
	}
	der, err := p.SignedData.ContentInfoDER()
	if err != nil {
		t.Fatal(err)
	}
	return cms.Armor(der)
}
