package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// The real-world public-good vector and the trusted root it verifies under.
const (
	vector          = "../../../testdata/realworld/commits/fe1e62346d3c346a343d089e8b4c3fb57716bc94.commit"
	publicGoodTrust = "../../../verify/trusted_root.public-good.json"
)

func vectorSignature(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile(vector)
	if err != nil {
		t.Fatal(err)
	}
	_, sig, err := gitobj.Split("commit", raw)
	if err != nil || len(sig) == 0 {
		t.Fatalf("split: %v (%d signature bytes)", err, len(sig))
	}
	return sig
}

func publicGood(t *testing.T) *trustedRoot {
	t.Helper()
	tr, err := loadTrustedRoot(publicGoodTrust)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// A public-good offline-mode signature needs its CMS signature, the
// P-384 chain leaf -> intermediate -> root (the root's own signature is
// not checked), one SCT, the SET and the checkpoint.
func TestNeedsPublicGood(t *testing.T) {
	needs, _, checkpoint, err := needsOf(vectorSignature(t), publicGood(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []need{
		{alg: P256, what: "CMS signature over the signed attributes (the signer's key)"},
		{alg: P384, what: "certificate of the signer by sigstore-intermediate"},
		{alg: P384, what: "certificate sigstore-intermediate by sigstore"},
		{alg: P256, what: "SCT by CT log https://ctfe.sigstore.dev/2022"},
		{alg: P256, what: "signed entry timestamp (SET) by log https://rekor.sigstore.dev"},
		{alg: P256, what: "checkpoint by log https://rekor.sigstore.dev"},
	}
	if len(needs) != len(want) {
		t.Fatalf("got %d needs %v, want %d", len(needs), needs, len(want))
	}
	for i := range want {
		if needs[i] != want[i] {
			t.Errorf("need %d = %+v, want %+v", i, needs[i], want[i])
		}
	}
	if !strings.HasPrefix(checkpoint, "rekor.sigstore.dev") {
		t.Errorf("checkpoint %q does not start with the log's origin", checkpoint)
	}
}

// Without the CA that issued the certificate there is no chain to count.
func TestNeedsUnknownCA(t *testing.T) {
	tr := publicGood(t)
	tr.cas = nil
	if _, _, _, err := needsOf(vectorSignature(t), tr); err == nil || !strings.Contains(err.Error(), "no certificate authority") {
		t.Fatalf("err = %v, want no certificate authority", err)
	}
}

// An SCT from a log the trusted root does not know is not counted.
func TestNeedsUnknownCTLog(t *testing.T) {
	tr := publicGood(t)
	tr.ctlogs = nil
	needs, _, _, err := needsOf(vectorSignature(t), tr)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range needs {
		if strings.HasPrefix(n.what, "SCT") {
			t.Fatalf("counted %q without the CT log", n.what)
		}
	}
	if len(needs) != 5 {
		t.Fatalf("got %d needs, want 5", len(needs))
	}
}

// Signatures under one certificate count it once; every need is counted
// per signature.
func TestSummarizeDistinct(t *testing.T) {
	sig := vectorSignature(t)
	s, err := summarize([][]byte{sig, sig, sig}, publicGood(t))
	if err != nil {
		t.Fatal(err)
	}
	if s.signatures != 3 || s.certificates != 1 || s.checkpoints != 1 || len(s.needs) != 6 {
		t.Fatalf("summary = %d signatures, %d certificates, %d checkpoints, %d needs", s.signatures, s.certificates, s.checkpoints, len(s.needs))
	}
	for _, n := range s.needs {
		if n.count != 3 {
			t.Errorf("%s counted %d times, want 3", n.what, n.count)
		}
	}
	if _, err := summarize(nil, publicGood(t)); err == nil {
		t.Error("summarize of no signatures did not fail")
	}
}

func TestParseSCTList(t *testing.T) {
	id1, id2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	sct := func(version byte, id []byte) []byte {
		b := append([]byte{version}, id...)
		b = append(b, make([]byte, 8)...)     // timestamp
		b = append(b, 0, 0)                   // no extensions
		b = append(b, 4, 3, 0, 2, 0xaa, 0xbb) // SHA-256, ECDSA, 2-byte signature
		return append([]byte{0, byte(len(b))}, b...)
	}
	list := append(sct(0, id1), sct(0, id2)...)
	good := append([]byte{0, byte(len(list))}, list...)
	ids, err := parseSCTList(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || !bytes.Equal(ids[0], id1) || !bytes.Equal(ids[1], id2) {
		t.Fatalf("ids = %x", ids)
	}
	v2 := sct(1, id1)
	for name, b := range map[string][]byte{
		"truncated":    good[:len(good)-1],
		"trailing":     append(append([]byte{}, good...), 0),
		"version 2":    append([]byte{0, byte(len(v2))}, v2...),
		"short SCT":    {0, 4, 0, 2, 0, 1},
		"empty":        {},
		"long element": {0, 3, 0, 9, 0},
	} {
		if _, err := parseSCTList(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestAlgOf(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	for want, key := range map[string]any{P256: &p256.PublicKey, P384: &p384.PublicKey, "Ed25519": ed} {
		if got, err := algOf(key); err != nil || got != want {
			t.Errorf("algOf = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := algOf("not a key"); err == nil {
		t.Error("algOf accepted a string")
	}
}

// Each op verifies a real signature, and timing reports positive costs.
func TestOps(t *testing.T) {
	ops, err := newOps(map[string]bool{P256: true, P384: true, "ECDSA-P521": true, "Ed25519": true, "RSA-2048": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 5 {
		t.Fatalf("%d ops", len(ops))
	}
	costs := measure(ops, 1, time.Millisecond)
	for name, c := range costs {
		if c.wall <= 0 || c.cpu < 0 {
			t.Errorf("%s: cost %+v", name, c)
		}
	}
	if _, err := newOps(map[string]bool{"DSA-1024": true}); err == nil {
		t.Error("newOps accepted DSA")
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
}

// readSignatures reads every commit of a range and refuses an unsigned one.
func TestReadSignatures(t *testing.T) {
	dir := t.TempDir()
	git := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
			"GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@example.test", "GIT_COMMITTER_NAME=A", "GIT_COMMITTER_EMAIL=a@example.test")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	git("", "init", "-q")
	signed := git("", "hash-object", "-t", "commit", "-w", "--literally", mustAbs(t, vector))
	sigs, err := readSignatures(dir, []string{"--no-walk", signed})
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 1 || !bytes.Equal(sigs[0], vectorSignature(t)) {
		t.Fatalf("read %d signatures, want the vector's", len(sigs))
	}
	tree := git("", "hash-object", "-t", "tree", "-w", "--stdin")
	unsigned := git("", "commit-tree", "-m", "unsigned", tree)
	if _, err := readSignatures(dir, []string{"--no-walk", signed, unsigned}); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("err = %v, want not signed", err)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
