// Command trustroot writes and checks the trusted_root.json of the local
// Sigstore stack started by hack/sigstore-local. It is a development tool,
// not part of gitsign.
//
// Usage:
//
//	trustroot create -out FILE -fulcio-chain PEM -ctlog-key PEM -rekor-v1-key PEM \
//	    -rekor-v2-key PEM -tsa-chain PEM [-fulcio-url URL] [-ctlog-url URL] \
//	    [-rekor-v1-url URL] [-rekor-v2-url URL] [-tsa-url URL] [-start RFC3339]
//	trustroot check -root FILE [-fulcio-chain PEM] [-rekor-log-id HEX]... [-ct-log-id HEX]...
//	trustroot logid -kind rekor-v1|ctlog|rekor-v2 -key PEM [-origin HOST]
//	trustroot verify -root FILE -bundle FILE -artifact FILE -identity SAN -issuer URL
//
// The Fulcio chain is a PEM file ordered as the trusted_root format orders
// a certificate authority's certChain: the issuing CA first (the one whose
// key signs the leaves), each certificate signed by the next, the
// self-signed root last. create refuses a chain in any other order; a lone
// root is a chain too (-fulcio-root is another name for -fulcio-chain).
// check -fulcio-chain fails unless the trusted root's only Fulcio CA has
// exactly that chain.
//
// verify checks a Sigstore bundle with sigstore-go against the trusted root,
// requiring an SCT, a transparency log entry and a signed (RFC 3161)
// timestamp; hack/sigstore-local selftest uses it.
//
// Log IDs:
//   - Rekor v1 and the CT log: SHA-256 of the DER SubjectPublicKeyInfo
//     (RFC 6962 log ID).
//   - Rekor v2 (rekor-tiles) with an Ed25519 key: the full SHA-256 of
//     origin || "\n" || 0x01 || raw public key, i.e. the untruncated C2SP
//     signed-note key hash; the origin is the --hostname rekor-tiles runs
//     with, which sigstore-go takes from the host of the log's baseUrl.
//     For an ECDSA key rekor-tiles uses the SPKI hash instead.
package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

const usage = `usage:
  trustroot create -out FILE -fulcio-chain PEM -ctlog-key PEM -rekor-v1-key PEM -rekor-v2-key PEM -tsa-chain PEM [flags]
  trustroot check -root FILE [-fulcio-chain PEM] [-rekor-log-id HEX]... [-ct-log-id HEX]...
  trustroot logid -kind rekor-v1|ctlog|rekor-v2 -key PEM [-origin HOST]
  trustroot verify -root FILE -bundle FILE -artifact FILE -identity SAN -issuer URL
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "create":
		err = create(os.Args[2:])
	case "check":
		err = check(os.Args[2:])
	case "logid":
		err = logID(os.Args[2:])
	case "verify":
		err = verifyBundle(os.Args[2:])
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "trustroot: %v\n", err)
		os.Exit(1)
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func create(args []string) error {
	fs := flag.NewFlagSet("create", flag.ExitOnError)
	out := fs.String("out", "", "where to write trusted_root.json")
	fulcioChain := fs.String("fulcio-chain", "", "PEM chain of the Fulcio CA: the issuing CA first, the root last")
	fs.StringVar(fulcioChain, "fulcio-root", "", "another name for -fulcio-chain")
	fulcioURL := fs.String("fulcio-url", "http://127.0.0.1:5555", "Fulcio URL")
	ctKey := fs.String("ctlog-key", "", "PEM public key of the CT log")
	ctURL := fs.String("ctlog-url", "http://127.0.0.1:6962", "CT log URL")
	rekorV1Key := fs.String("rekor-v1-key", "", "PEM public key of Rekor v1")
	rekorV1URL := fs.String("rekor-v1-url", "http://127.0.0.1:3000", "Rekor v1 URL")
	rekorV2Key := fs.String("rekor-v2-key", "", "PEM public key of Rekor v2 (rekor-tiles)")
	rekorV2URL := fs.String("rekor-v2-url", "http://127.0.0.1:3003", "Rekor v2 URL; its host is the checkpoint origin")
	tsaChain := fs.String("tsa-chain", "", "PEM chain of the timestamp authority (leaf first, root last)")
	tsaURL := fs.String("tsa-url", "http://127.0.0.1:3004/api/v1/timestamp", "timestamp authority URL")
	start := fs.String("start", "", "validity start of every entry (RFC 3339; default now minus 24h)")
	_ = fs.Parse(args)
	for name, v := range map[string]string{"-out": *out, "-fulcio-chain": *fulcioChain, "-ctlog-key": *ctKey,
		"-rekor-v1-key": *rekorV1Key, "-rekor-v2-key": *rekorV2Key, "-tsa-chain": *tsaChain} {
		if v == "" {
			return fmt.Errorf("create: %s is required", name)
		}
	}

	validFrom := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
	if *start != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			return fmt.Errorf("-start: %w", err)
		}
		validFrom = t
	}

	fulcioCerts, err := readCerts(*fulcioChain)
	if err != nil {
		return err
	}
	if err := checkChain(fulcioCerts); err != nil {
		return fmt.Errorf("%s: %w", *fulcioChain, err)
	}
	ca := &root.FulcioCertificateAuthority{
		Root:                fulcioCerts[len(fulcioCerts)-1],
		Intermediates:       fulcioCerts[:len(fulcioCerts)-1],
		ValidityPeriodStart: validFrom,
		URI:                 *fulcioURL,
	}

	tsaCerts, err := readCerts(*tsaChain)
	if err != nil {
		return err
	}
	if len(tsaCerts) < 2 {
		return fmt.Errorf("%s: want a leaf and a root, got %d certificate(s)", *tsaChain, len(tsaCerts))
	}
	tsa := &root.SigstoreTimestampingAuthority{
		Leaf:                tsaCerts[0],
		Intermediates:       tsaCerts[1 : len(tsaCerts)-1],
		Root:                tsaCerts[len(tsaCerts)-1],
		ValidityPeriodStart: validFrom,
		URI:                 *tsaURL,
	}

	ctLogs := map[string]*root.TransparencyLog{}
	if err := addLog(ctLogs, "ctlog", *ctKey, *ctURL, validFrom); err != nil {
		return err
	}
	rekorLogs := map[string]*root.TransparencyLog{}
	if err := addLog(rekorLogs, "rekor-v1", *rekorV1Key, *rekorV1URL, validFrom); err != nil {
		return err
	}
	if err := addLog(rekorLogs, "rekor-v2", *rekorV2Key, *rekorV2URL, validFrom); err != nil {
		return err
	}

	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{ca}, ctLogs, []root.TimestampingAuthority{tsa}, rekorLogs)
	if err != nil {
		return err
	}
	raw, err := tr.MarshalJSON()
	if err != nil {
		return err
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, raw, "", "  "); err != nil {
		return err
	}
	indented.WriteString("\n")
	// Make sure what we write loads back.
	if _, err := root.NewTrustedRootFromJSON(indented.Bytes()); err != nil {
		return fmt.Errorf("generated trusted root does not load: %w", err)
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, indented.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, *out)
}

func addLog(logs map[string]*root.TransparencyLog, kind, keyPath, baseURL string, validFrom time.Time) error {
	pub, err := readPublicKey(keyPath)
	if err != nil {
		return err
	}
	origin := ""
	if kind == "rekor-v2" {
		u, err := url.Parse(baseURL)
		if err != nil {
			return fmt.Errorf("rekor v2 url: %w", err)
		}
		origin = u.Hostname()
	}
	id, err := computeLogID(kind, pub, origin)
	if err != nil {
		return err
	}
	logs[hex.EncodeToString(id)] = &root.TransparencyLog{
		BaseURL:             baseURL,
		ID:                  id,
		ValidityPeriodStart: validFrom,
		HashFunc:            crypto.SHA256,
		PublicKey:           pub,
		SignatureHashFunc:   signatureHash(pub),
	}
	return nil
}

func signatureHash(pub crypto.PublicKey) crypto.Hash {
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		switch k.Curve.Params().BitSize {
		case 384:
			return crypto.SHA384
		case 521:
			return crypto.SHA512
		}
	}
	if _, ok := pub.(ed25519.PublicKey); ok {
		return crypto.SHA512
	}
	return crypto.SHA256
}

// computeLogID returns the log ID (the TransparencyLogInstance key id) for a
// log of the given kind. See the package comment.
func computeLogID(kind string, pub crypto.PublicKey, origin string) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	spkiHash := sha256.Sum256(der)
	switch kind {
	case "rekor-v1", "ctlog":
		return spkiHash[:], nil
	case "rekor-v2":
		switch k := pub.(type) {
		case ed25519.PublicKey:
			if origin == "" {
				return nil, errors.New("rekor v2 log id needs the checkpoint origin")
			}
			h := sha256.New()
			h.Write([]byte(origin))
			h.Write([]byte("\n"))
			h.Write([]byte{0x01}) // signed-note algorithm byte for Ed25519
			h.Write(k)
			return h.Sum(nil), nil
		case *ecdsa.PublicKey:
			return spkiHash[:], nil
		default:
			return nil, fmt.Errorf("rekor v2: unsupported key type %T", pub)
		}
	}
	return nil, fmt.Errorf("unknown log kind %q", kind)
}

func readPEMBlocks(path, wantType string) ([]*pem.Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var blocks []*pem.Block
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if wantType == "" || b.Type == wantType {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("%s: no PEM block of type %q", path, wantType)
	}
	return blocks, nil
}

func readCerts(path string) ([]*x509.Certificate, error) {
	blocks, err := readPEMBlocks(path, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, b := range blocks {
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

func readPublicKey(path string) (crypto.PublicKey, error) {
	blocks, err := readPEMBlocks(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	pub, err := x509.ParsePKIXPublicKey(blocks[0].Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

// check loads a trusted root exactly as a sigstore-go client would, prints
// a summary, and fails if an expected log ID is missing.
func check(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	path := fs.String("root", "", "trusted_root.json to load")
	wantChain := fs.String("fulcio-chain", "", "PEM chain (issuing CA first) that must be the only Fulcio CA")
	var wantRekor, wantCT multiFlag
	fs.Var(&wantRekor, "rekor-log-id", "a transparency log ID (hex or base64) that must be present; repeatable")
	fs.Var(&wantCT, "ct-log-id", "a CT log ID (hex or base64) that must be present; repeatable")
	_ = fs.Parse(args)
	if *path == "" {
		return errors.New("check: -root is required")
	}
	tr, err := root.NewTrustedRootFromPath(*path)
	if err != nil {
		return err
	}
	cas := tr.FulcioCertificateAuthorities()
	for _, ca := range cas {
		f := ca.(*root.FulcioCertificateAuthority)
		var names []string
		for _, c := range f.Intermediates {
			names = append(names, fmt.Sprintf("%q", c.Subject.String()))
		}
		fmt.Printf("fulcio ca   %s root=%q intermediates=[%s] from=%s\n", f.URI, f.Root.Subject.String(), strings.Join(names, " "), f.ValidityPeriodStart.Format(time.RFC3339))
	}
	for _, ta := range tr.TimestampingAuthorities() {
		t := ta.(*root.SigstoreTimestampingAuthority)
		leaf := "none"
		if t.Leaf != nil {
			leaf = fmt.Sprintf("%q", t.Leaf.Subject.String())
		}
		fmt.Printf("tsa         %s leaf=%s intermediates=%d root=%q\n", t.URI, leaf, len(t.Intermediates), t.Root.Subject.String())
	}
	printLogs("ctlog", tr.CTLogs())
	printLogs("tlog", tr.RekorLogs())
	if *wantChain != "" {
		want, err := readCerts(*wantChain)
		if err != nil {
			return err
		}
		if len(cas) != 1 {
			return fmt.Errorf("the trusted root has %d Fulcio CAs, want 1", len(cas))
		}
		f, ok := cas[0].(*root.FulcioCertificateAuthority)
		if !ok {
			return fmt.Errorf("the trusted root's CA is a %T", cas[0])
		}
		if err := sameChain(f, want); err != nil {
			return err
		}
		fmt.Printf("ok          fulcio ca chain matches %s (%d certificates)\n", *wantChain, len(want))
	}
	if err := expect("rekor", tr.RekorLogs(), wantRekor); err != nil {
		return err
	}
	return expect("ct", tr.CTLogs(), wantCT)
}

func printLogs(label string, logs map[string]*root.TransparencyLog) {
	ids := make([]string, 0, len(logs))
	for id := range logs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		l := logs[id]
		fmt.Printf("%-11s %s %s %T from=%s\n", label, l.BaseURL, id, l.PublicKey, l.ValidityPeriodStart.Format(time.RFC3339))
	}
}

func expect(label string, logs map[string]*root.TransparencyLog, want []string) error {
	for _, w := range want {
		id, err := decodeID(w)
		if err != nil {
			return fmt.Errorf("%s log id %q: %w", label, w, err)
		}
		if _, ok := logs[hex.EncodeToString(id)]; !ok {
			return fmt.Errorf("%s log id %s is not in the trusted root", label, hex.EncodeToString(id))
		}
		fmt.Printf("ok          %s log id %s is present\n", label, hex.EncodeToString(id))
	}
	return nil
}

func decodeID(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("not a 32-byte hex or base64 value")
}

func logID(args []string) error {
	fs := flag.NewFlagSet("logid", flag.ExitOnError)
	kind := fs.String("kind", "", "rekor-v1, ctlog or rekor-v2")
	key := fs.String("key", "", "PEM public key")
	origin := fs.String("origin", "127.0.0.1", "checkpoint origin (rekor-v2 only)")
	_ = fs.Parse(args)
	pub, err := readPublicKey(*key)
	if err != nil {
		return err
	}
	id, err := computeLogID(*kind, pub, *origin)
	if err != nil {
		return err
	}
	fmt.Println(hex.EncodeToString(id))
	return nil
}

func verifyBundle(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	path := fs.String("root", "", "trusted_root.json")
	bundlePath := fs.String("bundle", "", "Sigstore bundle (JSON)")
	artifact := fs.String("artifact", "", "the signed file")
	identity := fs.String("identity", "", "expected certificate SAN (email)")
	issuer := fs.String("issuer", "", "expected OIDC issuer")
	_ = fs.Parse(args)
	if *path == "" || *bundlePath == "" || *artifact == "" || *identity == "" || *issuer == "" {
		return errors.New("verify: -root, -bundle, -artifact, -identity and -issuer are required")
	}
	tr, err := root.NewTrustedRootFromPath(*path)
	if err != nil {
		return err
	}
	b, err := bundle.LoadJSONFromPath(*bundlePath)
	if err != nil {
		return err
	}
	v, err := verify.NewVerifier(tr,
		verify.WithSignedCertificateTimestamps(1),
		verify.WithTransparencyLog(1),
		verify.WithSignedTimestamps(1))
	if err != nil {
		return err
	}
	id, err := verify.NewShortCertificateIdentity(*issuer, "", *identity, "")
	if err != nil {
		return err
	}
	f, err := os.Open(*artifact)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := v.Verify(b, verify.NewPolicy(verify.WithArtifact(f), verify.WithCertificateIdentity(id)))
	if err != nil {
		return err
	}
	for _, ts := range res.VerifiedTimestamps {
		fmt.Printf("verified timestamp %s %s %s\n", ts.Type, ts.URI, ts.Timestamp.UTC().Format(time.RFC3339))
	}
	fmt.Printf("verified OK: %s %s\n", res.Signature.Certificate.SubjectAlternativeName, res.Signature.Certificate.Issuer)
	return nil
}
