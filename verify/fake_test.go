package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"testing"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/rekor"
)

// fakeStack is an in-process Sigstore shaped like public good: a P-384
// Fulcio root and intermediate, a CT log and a Rekor v1 log (P-256). It
// issues certificates with an embedded SCT and makes offline-mode gitsign
// signatures whose embedded entry has a SET and an inclusion proof, so
// the memo tests can sign several objects with one certificate at chosen
// times (the real-world vectors each have their own certificate).
type fakeStack struct {
	t                   testing.TB
	rootCert, interCert *x509.Certificate
	interKey            *ecdsa.PrivateKey
	ctKey, rekorKey     *ecdsa.PrivateKey
	serial              int64
}

// t0 is the fake stack's "now": certificates and log entries are dated
// around it, and sigstore-go judges them at the times the log vouches for.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	fakeIdentity = "alice@example.test"
	fakeIssuer   = "https://issuer.example.test"
)

var fakePolicy = Policy{Identities: []string{fakeIdentity}, Issuers: []string{fakeIssuer}}

// newFakeStack makes a stack whose intermediate is valid until interEnd.
func newFakeStack(t testing.TB, interEnd time.Time) *fakeStack {
	t.Helper()
	f := &fakeStack{t: t, serial: 100}
	rootKey := f.key(elliptic.P384())
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake-root", Organization: []string{"fake"}},
		NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	f.rootCert = f.create(rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	f.interKey = f.key(elliptic.P384())
	f.interCert = f.create(&x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "fake-intermediate", Organization: []string{"fake"}},
		NotBefore: t0.AddDate(0, 0, -1), NotAfter: interEnd,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true, IsCA: true,
	}, f.rootCert, &f.interKey.PublicKey, rootKey)
	f.ctKey, f.rekorKey = f.key(elliptic.P256()), f.key(elliptic.P256())
	return f
}

func (f *fakeStack) key(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		f.t.Fatal(err)
	}
	return k
}

func (f *fakeStack) create(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// logID is a log's id: SHA-256 of its key's DER.
func logID(k *ecdsa.PrivateKey) [32]byte {
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return sha256.Sum256(der)
}

// trustOpts edits the trusted root the fake stack describes.
type trustOpts struct {
	noIntermediate bool      // the CA lists only the root
	noCTLog        bool      // no CT log is trusted
	caEnd          time.Time // the CA's validity period ends (zero: open)
}

// trust returns trusted material for the stack.
func (f *fakeStack) trust(o trustOpts) root.TrustedMaterial {
	f.t.Helper()
	ca := &root.FulcioCertificateAuthority{Root: f.rootCert, ValidityPeriodStart: t0.AddDate(-1, 0, 0), ValidityPeriodEnd: o.caEnd}
	if !o.noIntermediate {
		ca.Intermediates = []*x509.Certificate{f.interCert}
	}
	tlog := func(k *ecdsa.PrivateKey) map[string]*root.TransparencyLog {
		id := logID(k)
		return map[string]*root.TransparencyLog{hex.EncodeToString(id[:]): {
			BaseURL: "https://log.example.test", ID: id[:], PublicKey: &k.PublicKey,
			HashFunc: crypto.SHA256, SignatureHashFunc: crypto.SHA256, ValidityPeriodStart: t0.AddDate(-1, 0, 0),
		}}
	}
	ctlogs := tlog(f.ctKey)
	if o.noCTLog {
		ctlogs = nil
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, []root.CertificateAuthority{ca}, ctlogs, nil, tlog(f.rekorKey))
	if err != nil {
		f.t.Fatal(err)
	}
	return tr
}

// identity is a certificate and its key.
type identity struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var (
	oidFulcioIssuer = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
)

// issue makes a Fulcio-style certificate valid for ten minutes from
// notBefore, with an SCT from the stack's CT log embedded (RFC 6962 3.3).
func (f *fakeStack) issue(notBefore time.Time) identity {
	f.t.Helper()
	tmpl, key := f.leafTemplate(notBefore)
	// The precertificate's TBS is the final one without the SCT list,
	// which crypto/x509 adds last; the SCT signs it with the issuer's key
	// hash.
	pre := f.create(tmpl, f.interCert, &key.PublicKey, f.interKey)
	ts := uint64(notBefore.UnixMilli())
	issuerKeyHash := sha256.Sum256(f.interCert.RawSubjectPublicKeyInfo)
	var input []byte
	input = append(input, 0, 0) // v1, certificate_timestamp
	input = binary.BigEndian.AppendUint64(input, ts)
	input = binary.BigEndian.AppendUint16(input, 1) // precert_entry
	input = append(input, issuerKeyHash[:]...)
	tbs := pre.RawTBSCertificate
	input = append(input, byte(len(tbs)>>16), byte(len(tbs)>>8), byte(len(tbs)))
	input = append(input, tbs...)
	input = append(input, 0, 0) // no extensions
	digest := sha256.Sum256(input)
	sig, err := ecdsa.SignASN1(rand.Reader, f.ctKey, digest[:])
	if err != nil {
		f.t.Fatal(err)
	}
	id := logID(f.ctKey)
	var sct []byte
	sct = append(sct, 0)
	sct = append(sct, id[:]...)
	sct = binary.BigEndian.AppendUint64(sct, ts)
	sct = append(sct, 0, 0) // no extensions
	sct = append(sct, 4, 3) // sha256, ecdsa
	sct = binary.BigEndian.AppendUint16(sct, uint16(len(sig)))
	sct = append(sct, sig...)
	list := binary.BigEndian.AppendUint16(nil, uint16(len(sct)+2))
	list = binary.BigEndian.AppendUint16(list, uint16(len(sct)))
	list = append(list, sct...)
	value, err := asn1.Marshal(list)
	if err != nil {
		f.t.Fatal(err)
	}
	tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidSCTList, Value: value})
	return identity{cert: f.create(tmpl, f.interCert, &key.PublicKey, f.interKey), key: key}
}

// leafTemplate is a Fulcio-style leaf valid for ten minutes from
// notBefore, and its new key.
func (f *fakeStack) leafTemplate(notBefore time.Time) (*x509.Certificate, *ecdsa.PrivateKey) {
	key := f.key(elliptic.P256())
	f.serial++
	return &x509.Certificate{
		SerialNumber: big.NewInt(f.serial), NotBefore: notBefore, NotAfter: notBefore.Add(10 * time.Minute),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		EmailAddresses:  []string{fakeIdentity},
		ExtraExtensions: []pkix.Extension{{Id: oidFulcioIssuer, Value: []byte(fakeIssuer)}},
	}, key
}

// commit is a commit payload, distinct per n.
func commit(n int) []byte {
	return fmt.Appendf(nil, "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.test> 1 +0000\ncommitter A <a@example.test> 1 +0000\n\ncommit %d\n", n)
}

// sign makes the offline-mode signature of payload by id, with the log
// entry the stack's Rekor would make at time at.
func (f *fakeStack) sign(id identity, payload []byte, at time.Time) []byte {
	f.t.Helper()
	signed, err := cms.Sign(payload, id.cert, id.key, at, true, rand.Reader)
	if err != nil {
		f.t.Fatal(err)
	}
	attrs, err := signed.SignedAttributes()
	if err != nil {
		f.t.Fatal(err)
	}
	digest := sha256.Sum256(attrs)
	body, err := rekor.HashedRekordV001(digest[:], signed.Signature(), id.cert)
	if err != nil {
		f.t.Fatal(err)
	}
	f.serial++
	logIndex := f.serial
	lid := logID(f.rekorKey)
	payloadJSON := fmt.Sprintf(`{"body":%q,"integratedTime":%d,"logID":%q,"logIndex":%d}`,
		base64.StdEncoding.EncodeToString(body), at.Unix(), hex.EncodeToString(lid[:]), logIndex)
	setDigest := sha256.Sum256([]byte(payloadJSON))
	set, err := ecdsa.SignASN1(rand.Reader, f.rekorKey, setDigest[:])
	if err != nil {
		f.t.Fatal(err)
	}
	// A tree of one leaf: its root is the leaf hash.
	rootHash := sha256.Sum256(append([]byte{0}, body...))
	note := fmt.Sprintf("rekor.example.test - 42\n1\n%s\n", base64.StdEncoding.EncodeToString(rootHash[:]))
	noteDigest := sha256.Sum256([]byte(note))
	noteSig, err := ecdsa.SignASN1(rand.Reader, f.rekorKey, noteDigest[:])
	if err != nil {
		f.t.Fatal(err)
	}
	checkpoint := fmt.Sprintf("%s\n\u2014 rekor.example.test %s\n", note, base64.StdEncoding.EncodeToString(append(lid[:4:4], noteSig...)))
	tle := &protorekor.TransparencyLogEntry{
		LogIndex:          logIndex,
		LogId:             &protocommon.LogId{KeyId: lid[:]},
		KindVersion:       &protorekor.KindVersion{Kind: "hashedrekord", Version: "0.0.1"},
		IntegratedTime:    at.Unix(),
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		InclusionProof:    &protorekor.InclusionProof{TreeSize: 1, RootHash: rootHash[:], Checkpoint: &protorekor.Checkpoint{Envelope: checkpoint}},
		CanonicalizedBody: body,
	}
	embedded, err := rekor.EncodeEntry(tle)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := signed.AddUnsignedAttribute(rekor.OIDTransparencyLogEntry, embedded); err != nil {
		f.t.Fatal(err)
	}
	der, err := signed.DER()
	if err != nil {
		f.t.Fatal(err)
	}
	return cms.Armor(der)
}

// verifier returns a Verifier for the stack's trust material, edited by o.
func (f *fakeStack) verifier(o trustOpts) *Verifier {
	f.t.Helper()
	v, err := New(f.trust(o), Options{Policy: fakePolicy})
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}
