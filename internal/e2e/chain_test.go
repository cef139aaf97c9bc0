//go:build e2e

package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/gitsign-dev/gitsign/internal/cms"
)

// The local Fulcio CA has the public-good shape: a self-signed P-384 root
// and a P-384 intermediate (CA, pathlen 0, EKU codeSigning) that issues
// the leaves. A signature carries only its leaf, so a verifier needs the
// intermediate from its trust material.

// localCA is the local stack's Fulcio CA, read from the files that
// `hack/sigstore-local env` names.
type localCA struct {
	root, intermediate *x509.Certificate
	rootKey            *ecdsa.PrivateKey
}

func readLocalCA(t *testing.T) *localCA {
	t.Helper()
	ca := &localCA{
		root:         pemCertificate(t, stackEnv(t, "GITSIGN_LOCAL_FULCIO_ROOT")),
		intermediate: pemCertificate(t, stackEnv(t, "GITSIGN_LOCAL_FULCIO_INTERMEDIATE")),
	}
	path := stackEnv(t, "GITSIGN_LOCAL_FULCIO_ROOT_KEY")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var ok bool
	if ca.rootKey, ok = key.(*ecdsa.PrivateKey); !ok {
		t.Fatalf("%s holds a %T, want an ECDSA key", path, key)
	}
	return ca
}

// pemCertificate reads a PEM file that holds exactly one certificate.
func pemCertificate(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("%s does not hold exactly one PEM certificate", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

func isP384(c *x509.Certificate) bool {
	k, ok := c.PublicKey.(*ecdsa.PublicKey)
	return ok && k.Curve == elliptic.P384()
}

// sibling returns another intermediate under the real root: the same
// name, key identifier, validity and extensions as the real one, signed by
// the real root, and a fresh P-384 key. Only its key tells it apart.
func (ca *localCA) sibling(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	in := ca.intermediate
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            in.RawSubject,
		SubjectKeyId:          in.SubjectKeyId,
		NotBefore:             in.NotBefore,
		NotAfter:              in.NotAfter,
		KeyUsage:              in.KeyUsage,
		ExtKeyUsage:           in.ExtKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SignatureAlgorithm:    x509.ECDSAWithSHA384,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.root, &key.PublicKey, ca.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.String() != in.Subject.String() || !bytes.Equal(c.SubjectKeyId, in.SubjectKeyId) ||
		c.CheckSignatureFrom(ca.root) != nil || bytes.Equal(c.RawSubjectPublicKeyInfo, in.RawSubjectPublicKeyInfo) {
		t.Fatal("the sibling intermediate is not a same-named, root-signed CA with its own key")
	}
	return c
}

// editedTrustedRoot writes a copy of the stack's trusted root whose Fulcio
// certificate chain is edit(chain) (DER, issuing CA first, root last).
func editedTrustedRoot(t *testing.T, edit func(chain [][]byte) [][]byte) string {
	t.Helper()
	b, err := os.ReadFile(stackEnv(t, "GITSIGN_TRUSTED_ROOT"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	cas, _ := doc["certificateAuthorities"].([]any)
	if len(cas) != 1 {
		t.Fatalf("the stack's trusted root has %d certificate authorities, want 1", len(cas))
	}
	chain := cas[0].(map[string]any)["certChain"].(map[string]any)
	var ders [][]byte
	for _, c := range chain["certificates"].([]any) {
		der, err := base64.StdEncoding.DecodeString(c.(map[string]any)["rawBytes"].(string))
		if err != nil {
			t.Fatal(err)
		}
		ders = append(ders, der)
	}
	var certs []any
	for _, der := range edit(ders) {
		certs = append(certs, map[string]any{"rawBytes": base64.StdEncoding.EncodeToString(der)})
	}
	chain["certificates"] = certs
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := root.NewTrustedRootFromPath(path); err != nil {
		t.Fatalf("the edited trusted root does not load: %v", err)
	}
	return path
}

// TestChainLocalCAShape: the stack's CA is a P-384 root and a P-384
// intermediate as public good has, the stack's trusted root holds both
// (intermediate first), and a commit signed here has a leaf issued by the
// intermediate, which openssl verifies to the root only with the
// intermediate's help.
func TestChainLocalCAShape(t *testing.T) {
	ca := readLocalCA(t)
	rt, in := ca.root, ca.intermediate
	if !isP384(rt) || !rt.IsCA || rt.CheckSignatureFrom(rt) != nil || rt.SignatureAlgorithm != x509.ECDSAWithSHA384 {
		t.Errorf("root %s: P-384 %v, CA %v, self-signed %v, %v; want a self-signed P-384 CA signed with ECDSA-SHA384",
			rt.Subject, isP384(rt), rt.IsCA, rt.CheckSignatureFrom(rt) == nil, rt.SignatureAlgorithm)
	}
	if rt.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("root key usage %b, want certSign and cRLSign", rt.KeyUsage)
	}
	if !isP384(in) || !in.IsCA || in.MaxPathLen != 0 || !in.MaxPathLenZero ||
		!slices.Equal(in.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}) ||
		in.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign || in.SignatureAlgorithm != x509.ECDSAWithSHA384 {
		t.Errorf("intermediate %s: P-384 %v, CA %v, pathlen %d (zero %v), EKU %v, key usage %b, %v; want a P-384 CA, pathlen 0, EKU codeSigning, certSign and cRLSign, ECDSA-SHA384",
			in.Subject, isP384(in), in.IsCA, in.MaxPathLen, in.MaxPathLenZero, in.ExtKeyUsage, in.KeyUsage, in.SignatureAlgorithm)
	}
	if err := in.CheckSignatureFrom(rt); err != nil || !bytes.Equal(in.RawIssuer, rt.RawSubject) ||
		len(rt.SubjectKeyId) == 0 || !bytes.Equal(in.AuthorityKeyId, rt.SubjectKeyId) {
		t.Errorf("the intermediate is not issued by the root (signature %v, issuer %s, AKI %x, root SKI %x)", err, in.Issuer, in.AuthorityKeyId, rt.SubjectKeyId)
	}

	tr := trustedRoot(t)
	if cas := tr.FulcioCertificateAuthorities(); len(cas) != 1 {
		t.Errorf("the stack's trusted root has %d Fulcio CAs, want 1", len(cas))
	} else if f := cas[0].(*root.FulcioCertificateAuthority); !f.Root.Equal(rt) || len(f.Intermediates) != 1 || !f.Intermediates[0].Equal(in) {
		t.Errorf("the stack's trusted root holds root %s and %d intermediate(s), want the local root and intermediate", f.Root.Subject, len(f.Intermediates))
	}

	r := newRepo(t, "SIGSTORE_ID_TOKEN="+token(t))
	id := r.commit("chain")
	s := readSigned(t, r, "commit", id)
	leaf := s.cert
	if err := leaf.CheckSignatureFrom(in); err != nil || !bytes.Equal(leaf.RawIssuer, in.RawSubject) || !bytes.Equal(leaf.AuthorityKeyId, in.SubjectKeyId) {
		t.Errorf("the leaf is not issued by the intermediate (signature %v, issuer %s, AKI %x, intermediate SKI %x)", err, leaf.Issuer, leaf.AuthorityKeyId, in.SubjectKeyId)
	}
	if leaf.SignatureAlgorithm != x509.ECDSAWithSHA384 {
		t.Errorf("leaf signed with %v, want ECDSA-SHA384", leaf.SignatureAlgorithm)
	}
	if leaf.CheckSignatureFrom(rt) == nil {
		t.Error("the leaf's signature verifies under the root's key")
	}

	// openssl: the signature carries the leaf only. The leaf verifies to
	// the root (the only trust anchor) with the intermediate as an
	// untrusted certificate, and not without it; the CMS signature
	// verifies with the chain as its CA file, and not with the root alone
	// (openssl cms takes intermediates only from its CA file or the
	// signature).
	dir := t.TempDir()
	leafFile := filepath.Join(dir, "leaf.pem")
	os.WriteFile(leafFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}), 0o600)
	openssl := func(args ...string) (string, error) {
		out, err := exec.Command("openssl", args...).CombinedOutput()
		return string(out), err
	}
	if out, err := openssl("verify", "-x509_strict", "-CAfile", stackEnv(t, "GITSIGN_LOCAL_FULCIO_ROOT"),
		"-untrusted", stackEnv(t, "GITSIGN_LOCAL_FULCIO_INTERMEDIATE"), leafFile); err != nil || !strings.Contains(out, ": OK") {
		t.Errorf("openssl verify with the intermediate: %v\n%s", err, out)
	}
	if out, err := openssl("verify", "-CAfile", stackEnv(t, "GITSIGN_LOCAL_FULCIO_ROOT"), leafFile); err == nil || !strings.Contains(out, "unable to get local issuer certificate") {
		t.Errorf("openssl verify without the intermediate: %v, want \"unable to get local issuer certificate\"\n%s", err, out)
	}
	der, _ := cms.Dearmor(s.pem)
	sigFile, payloadFile := filepath.Join(dir, "sig.der"), filepath.Join(dir, "payload")
	os.WriteFile(sigFile, der, 0o600)
	os.WriteFile(payloadFile, s.payload, 0o600)
	cmsVerify := func(caFile string) (string, error) {
		return openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", payloadFile,
			"-CAfile", caFile, "-purpose", "any", "-out", os.DevNull)
	}
	if out, err := cmsVerify(stackEnv(t, "GITSIGN_LOCAL_FULCIO_CHAIN")); err != nil || !strings.Contains(out, "Verification successful") {
		t.Errorf("openssl cms -verify with the chain: %v\n%s", err, out)
	}
	if out, err := cmsVerify(stackEnv(t, "GITSIGN_LOCAL_FULCIO_ROOT")); err == nil || !strings.Contains(out, "unable to get local issuer certificate") {
		t.Errorf("openssl cms -verify with the root alone: %v, want \"unable to get local issuer certificate\"\n%s", err, out)
	}
}

// TestChainIntermediateTrust: a commit signed here verifies with the
// stack's trusted root, and is refused by git and gitsign verify with a
// trusted root that lacks the intermediate, or whose intermediate is
// another CA of the same name under the same root. The reference's pin of
// Fulcio certificates (SIGSTORE_ROOT_FILE) works the same way: the chain
// file verifies, the root alone does not.
func TestChainIntermediateTrust(t *testing.T) {
	ca := readLocalCA(t)
	r := newRepo(t, "SIGSTORE_ID_TOKEN="+token(t))
	id := r.commit("chain")
	r.setPolicy("alice@example.test", stackEnv(t, "GITSIGN_OIDC_ISSUER"))
	sibling := ca.sibling(t)

	noIntermediate := editedTrustedRoot(t, func(chain [][]byte) [][]byte {
		if len(chain) != 2 || !bytes.Equal(chain[0], ca.intermediate.Raw) || !bytes.Equal(chain[1], ca.root.Raw) {
			t.Fatalf("the stack's trusted root has a chain of %d certificates, want the intermediate then the root", len(chain))
		}
		return chain[1:]
	})
	otherIntermediate := editedTrustedRoot(t, func(chain [][]byte) [][]byte {
		return [][]byte{sibling.Raw, chain[1]}
	})
	rootOnly := filepath.Join(t.TempDir(), "root.pem")
	os.WriteFile(rootOnly, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.root.Raw}), 0o644)

	const chainError = "failed to verify leaf certificate"
	for _, c := range []struct {
		name string
		env  []string
		good bool
	}{
		{"the stack's trusted root", nil, true},
		{"intermediate missing", []string{"GITSIGN_TRUSTED_ROOT=" + noIntermediate}, false},
		{"another intermediate of the same name", []string{"GITSIGN_TRUSTED_ROOT=" + otherIntermediate}, false},
		{"pinned chain file", []string{"SIGSTORE_ROOT_FILE=" + stackEnv(t, "GITSIGN_LOCAL_FULCIO_CHAIN")}, true},
		{"pinned root alone", []string{"SIGSTORE_ROOT_FILE=" + rootOnly}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc := r.withEnv(c.env...)
			if c.good {
				gitVerdict(t, rc, id, "G", "GOODSIG")
				cliVerdict(t, rc, 0, []string{id}, "good signature from alice@example.test")
				return
			}
			human := gitVerdict(t, rc, id, "B", "BADSIG")
			if !strings.Contains(human, chainError) || strings.Contains(human, "good signature") {
				t.Errorf("git verify-commit does not name the chain failure %q:\n%s", chainError, human)
			}
			out := cliVerdict(t, rc, 1, []string{id}, id+" commit: FAILED: ", chainError)
			if strings.Contains(out, "good signature") {
				t.Errorf("gitsign verify reports a good signature:\n%s", out)
			}
			t.Logf("git verify-commit: %s\ngitsign verify: %s", strings.TrimSpace(human), strings.TrimSpace(out))
		})
	}
}
