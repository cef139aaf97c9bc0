//go:build e2e

package e2e

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/github/smimesign/ietf-cms/protocol"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// signed is a signed git object taken apart.
type signed struct {
	id, typ      string
	payload, pem []byte
	si           protocol.SignerInfo
	cert         *x509.Certificate
	attrs        []byte // DER of the signed attributes
}

func readSigned(t *testing.T, r *repo, typ, rev string) *signed {
	t.Helper()
	return readSignedBy(t, r, typ, rev, "alice@example.test")
}

// readSignedBy is readSigned for a signature by email.
func readSignedBy(t *testing.T, r *repo, typ, rev, email string) *signed {
	t.Helper()
	id := strings.TrimSpace(r.git("rev-parse", rev))
	raw := r.git("cat-file", typ, id)
	payload, sigPEM, err := gitobj.Split(typ, []byte(raw))
	if err != nil {
		t.Fatalf("%s %s: %v", typ, id, err)
	}
	p, err := cms.Parse(sigPEM)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", typ, id, err, sigPEM)
	}
	if n := len(p.SignedData.Certificates); n != 1 {
		t.Errorf("signature carries %d certificates, want only the leaf", n)
	}
	s := &signed{id: id, typ: typ, payload: payload, pem: sigPEM, si: p.Signer, cert: p.Cert}
	if s.attrs, err = s.si.SignedAttrs.MarshaledForVerification(); err != nil {
		t.Fatal(err)
	}
	if len(s.cert.EmailAddresses) != 1 || s.cert.EmailAddresses[0] != email {
		t.Errorf("certificate names %v, want %s", s.cert.EmailAddresses, email)
	}
	return s
}

// opensslVerify checks the CMS signature over the payload and the
// certificate chain (leaf, the local intermediate, the root), with openssl.
func (s *signed) opensslVerify(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	der, _ := cms.Dearmor(s.pem)
	sigFile, payloadFile := filepath.Join(dir, "sig.der"), filepath.Join(dir, "payload")
	os.WriteFile(sigFile, der, 0o600)
	os.WriteFile(payloadFile, s.payload, 0o600)
	cmd := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile,
		"-content", payloadFile, "-CAfile", stackEnv(t, "GITSIGN_LOCAL_FULCIO_CHAIN"), "-purpose", "any", "-out", os.DevNull)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Verification successful") {
		t.Errorf("openssl cms -verify of %s %s: %v\n%s", s.typ, s.id, err, out)
	}
	// And the signature must not verify over other bytes.
	os.WriteFile(payloadFile, append(s.payload, 'x'), 0o600)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("openssl accepted the signature over a changed payload:\n%s", out)
	}
}

// unsigned returns the single value of an unsigned attribute, or nil.
func (s *signed) unsigned(t *testing.T, oid asn1.ObjectIdentifier) []byte {
	t.Helper()
	if !s.si.UnsignedAttrs.HasAttribute(oid) {
		return nil
	}
	rv, err := s.si.UnsignedAttrs.GetOnlyAttributeValueBytes(oid)
	if err != nil {
		t.Fatalf("attribute %s: %v", oid, err)
	}
	return rv.FullBytes
}

// embeddedEntry decodes attribute 1.3.6.1.4.1.57264.3.1.
func (s *signed) embeddedEntry(t *testing.T) *protorekor.TransparencyLogEntry {
	t.Helper()
	v := s.unsigned(t, rekor.OIDTransparencyLogEntry)
	if v == nil {
		t.Fatalf("%s %s has no embedded log entry", s.typ, s.id)
	}
	var octets []byte
	if _, err := asn1.Unmarshal(v, &octets); err != nil {
		t.Fatalf("embedded entry is not an OCTET STRING: %v", err)
	}
	tle, err := rekor.DecodeEntry(octets)
	if err != nil {
		t.Fatal(err)
	}
	if v1 := tle.KindVersion.GetVersion() == "0.0.1"; v1 != (len(tle.CanonicalizedBody) == 0) {
		t.Errorf("embedded %s entry has a %d-byte body: v0.0.1 bodies are cleared (the reference's layout), v0.0.2 kept",
			tle.KindVersion.GetVersion(), len(tle.CanonicalizedBody))
	}
	return tle
}

func trustedRoot(t *testing.T) *root.TrustedRoot {
	t.Helper()
	tr, err := root.NewTrustedRootFromPath(stackEnv(t, "GITSIGN_TRUSTED_ROOT"))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

func httpPostJSON(t *testing.T, url string, body any) []byte {
	t.Helper()
	j, _ := json.Marshal(body)
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post(url, "application/json", bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// rekorV1Entry fetches an entry from the local Rekor v1 by index or UUID.
func rekorV1Entry(t *testing.T, query string) (body []byte, index, integrated int64, logID string) {
	t.Helper()
	var m map[string]struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogID          string `json:"logID"`
		LogIndex       int64  `json:"logIndex"`
	}
	if err := json.Unmarshal(httpGet(t, stackEnv(t, "GITSIGN_REKOR_URL")+"/api/v1/log/entries"+query), &m); err != nil || len(m) != 1 {
		t.Fatalf("rekor answer for %s: %v (%d entries)", query, err, len(m))
	}
	for _, e := range m {
		b, err := base64.StdEncoding.DecodeString(e.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b, e.LogIndex, e.IntegratedTime, e.LogID
	}
	return
}

// checkOfflineV1 checks an offline-mode signature: the embedded entry is
// the one Rekor v1 holds, for sha256 of the signed attributes, and its
// signed entry timestamp and inclusion proof verify with the log's key.
func (s *signed) checkOfflineV1(t *testing.T) {
	t.Helper()
	tle := s.embeddedEntry(t)
	digest := sha256.Sum256(s.attrs)
	want, err := rekor.HashedRekordV001(digest[:], s.si.Signature, s.cert)
	if err != nil {
		t.Fatal(err)
	}
	body, index, integrated, logID := rekorV1Entry(t, fmt.Sprintf("?logIndex=%d", tle.LogIndex))
	if !jsonEqual(body, want) {
		t.Errorf("Rekor's entry %d is not over sha256(signed attributes):\n got %s\nwant %s", tle.LogIndex, body, want)
	}
	if index != tle.LogIndex || integrated != tle.IntegratedTime || logID != hex.EncodeToString(tle.LogId.KeyId) {
		t.Errorf("embedded entry (index %d, time %d, log %x) differs from the server's (%d, %d, %s)",
			tle.LogIndex, tle.IntegratedTime, tle.LogId.KeyId, index, integrated, logID)
	}
	if k := tle.KindVersion; k.Kind != "hashedrekord" || k.Version != "0.0.1" {
		t.Errorf("kind %s/%s", k.Kind, k.Version)
	}
	tle.CanonicalizedBody = body
	entry, err := tlog.ParseTransparencyLogEntry(tle)
	if err != nil {
		t.Fatal(err)
	}
	logs := trustedRoot(t).RekorLogs()
	if err := tlog.VerifySET(entry, logs); err != nil {
		t.Errorf("signed entry timestamp: %v", err)
	}
	verifier := logVerifier(t, logs, entry.LogKeyID())
	if err := tlog.VerifyInclusion(entry, verifier); err != nil {
		t.Errorf("inclusion proof: %v", err)
	}
}

func logVerifier(t *testing.T, logs map[string]*root.TransparencyLog, keyID string) signature.Verifier {
	t.Helper()
	id := hex.EncodeToString([]byte(keyID))
	l, ok := logs[id]
	if !ok {
		t.Fatalf("log %s is not in the trusted root", id)
	}
	v, err := signature.LoadVerifier(l.PublicKey, l.HashFunc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkOnline checks an online-mode signature: nothing embedded, and Rekor
// v1 holds an entry over sha256 of the object id made by the same key.
func (s *signed) checkOnline(t *testing.T) {
	t.Helper()
	if s.unsigned(t, rekor.OIDTransparencyLogEntry) != nil {
		t.Error("online mode embedded a log entry")
	}
	digest := sha256.Sum256([]byte(s.id))
	var uuids []string
	res := httpPostJSON(t, stackEnv(t, "GITSIGN_REKOR_URL")+"/api/v1/index/retrieve", map[string]string{"hash": "sha256:" + hex.EncodeToString(digest[:])})
	if err := json.Unmarshal(res, &uuids); err != nil || len(uuids) != 1 {
		t.Fatalf("Rekor search for sha256(%s): %s (%v)", s.id, res, err)
	}
	body, _, _, _ := rekorV1Entry(t, "/"+uuids[0])
	hash, sig, pubPEM, err := rekor.HashedRekordV001Parts(body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hash, digest[:]) {
		t.Errorf("entry hash %x, want sha256(%q)", hash, s.id)
	}
	if block, _ := pem.Decode(pubPEM); block == nil || !bytes.Equal(block.Bytes, s.cert.Raw) {
		t.Error("entry is not for the signing certificate")
	}
	if err := s.cert.CheckSignature(x509.ECDSAWithSHA256, []byte(s.id), sig); err != nil {
		t.Errorf("entry's signature over the object id does not verify with the signing key: %v", err)
	}
}

// checkTimestamp verifies the RFC 3161 token over the signature value
// with openssl against the local TSA chain.
func (s *signed) checkTimestamp(t *testing.T) {
	t.Helper()
	v := s.unsigned(t, tsa.OIDTimeStampToken)
	if v == nil {
		t.Fatalf("%s %s has no timestamp token", s.typ, s.id)
	}
	dir := t.TempDir()
	tok, data := filepath.Join(dir, "token.der"), filepath.Join(dir, "sig.bin")
	os.WriteFile(tok, v, 0o600)
	os.WriteFile(data, s.si.Signature, 0o600)
	cmd := exec.Command("openssl", "ts", "-verify", "-token_in", "-in", tok, "-data", data,
		"-CAfile", stackEnv(t, "GITSIGN_LOCAL_TSA_CHAIN"))
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Errorf("openssl ts -verify: %v\n%s", err, out)
	}
}

// checkOfflineV2 checks a Rekor v2 signature: the embedded entry, with its
// checkpoint, is the one in the log's tiles, for sha256 of the signed
// attributes, and its inclusion proof and checkpoint verify.
func (s *signed) checkOfflineV2(t *testing.T) {
	t.Helper()
	tle := s.embeddedEntry(t)
	if k := tle.KindVersion; k.Kind != "hashedrekord" || k.Version != "0.0.2" {
		t.Errorf("kind %s/%s, want hashedrekord/0.0.2", k.Kind, k.Version)
	}
	body := rekorV2Entry(t, tle.LogIndex)
	if !bytes.Equal(body, tle.CanonicalizedBody) {
		t.Errorf("embedded body differs from the log's entry %d", tle.LogIndex)
	}
	var e struct {
		Spec struct {
			HashedRekordV002 struct {
				Data      struct{ Digest []byte }
				Signature struct {
					Content  []byte
					Verifier struct {
						X509Certificate struct{ RawBytes []byte }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("tile entry %d: %v\n%s", tle.LogIndex, err, body)
	}
	hr := e.Spec.HashedRekordV002
	digest := sha256.Sum256(s.attrs)
	if !bytes.Equal(hr.Data.Digest, digest[:]) || !bytes.Equal(hr.Signature.Content, s.si.Signature) ||
		!bytes.Equal(hr.Signature.Verifier.X509Certificate.RawBytes, s.cert.Raw) {
		t.Errorf("Rekor v2 entry %d is not this signature over sha256(signed attributes):\n%s", tle.LogIndex, body)
	}
	tle.CanonicalizedBody = body
	entry, err := tlog.ParseTransparencyLogEntry(tle)
	if err != nil {
		t.Fatal(err)
	}
	verifier := logVerifier(t, trustedRoot(t).RekorLogs(), entry.LogKeyID())
	if err := tlog.VerifyCheckpointAndInclusion(entry, verifier, "127.0.0.1"); err != nil {
		t.Errorf("checkpoint and inclusion proof: %v", err)
	}
}

// rekorV2Entry reads entry index from the log's entry-bundle tiles.
func rekorV2Entry(t *testing.T, index int64) []byte {
	t.Helper()
	base := strings.TrimSuffix(stackEnv(t, "GITSIGN_LOCAL_REKOR_V2_TILES_URL"), "/")
	bundle, pos := index/256, int(index%256)
	var size uint64
	fmt.Sscan(strings.Split(string(httpGet(t, base+"/checkpoint")), "\n")[1], &size)
	path := base + "/tile/entries/" + tileIndex(bundle)
	if full := uint64(bundle+1) * 256; full > size {
		path += fmt.Sprintf(".p/%d", size-uint64(bundle)*256)
	}
	data := httpGet(t, path)
	for i := 0; len(data) >= 2; i++ {
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			break
		}
		if i == pos {
			return data[2 : 2+n]
		}
		data = data[2+n:]
	}
	t.Fatalf("entry %d not found in %s", index, path)
	return nil
}

// tileIndex encodes n as tlog-tiles path elements: x001/x234/067.
func tileIndex(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n /= 1000; n > 0; n /= 1000 {
		s = fmt.Sprintf("x%03d/", n%1000) + s
	}
	return s
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// certFromPEM returns the signing certificate of an armored signature.
func certFromPEM(t *testing.T, sigPEM []byte) *x509.Certificate {
	t.Helper()
	p, err := cms.Parse(sigPEM)
	if err != nil {
		t.Fatal(err)
	}
	return p.Cert
}
