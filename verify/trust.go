package verify

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
)

// publicGoodRoot is the public-good Sigstore trusted root as of the build,
// so a fresh offline machine verifies public-good signatures.
//
//go:embed trusted_root.public-good.json
var publicGoodRoot []byte

// TrustOptions says where trust material comes from: each field is a
// file or directory the caller chose (from flags, configuration or the
// environment); the zero value is the public-good root built into gitsign.
type TrustOptions struct {
	// TrustedRoot is a trusted_root.json file. When set, it is the trust
	// material and TUFCache is not consulted.
	TrustedRoot string
	// TUFCache is the directory sigstore-go's TUF client caches trusted
	// roots in (see RememberMirror); "" consults no cache.
	TUFCache string
	// FulcioRoot is a PEM file of Fulcio roots and intermediates; it
	// replaces the certificate authorities of the trusted root.
	FulcioRoot string
	// TimestampCertChain is a PEM timestamp authority chain, leaf first; it
	// replaces the timestamp authorities of the trusted root.
	TimestampCertChain string
	// RekorPublicKey is a PEM public key; it replaces the Rekor logs of the
	// trusted root.
	RekorPublicKey string
	// CTLogPublicKey is a PEM public key; it replaces the certificate
	// transparency logs of the trusted root.
	CTLogPublicKey string
}

// TrustPart names one part of the trust material, for a TrustError.
type TrustPart int

const (
	// PartTrustedRoot is TrustOptions.TrustedRoot.
	PartTrustedRoot TrustPart = iota
	// PartCachedRoot is the trusted root cached in TrustOptions.TUFCache.
	PartCachedRoot
	// PartBuiltinRoot is the public-good root built into gitsign.
	PartBuiltinRoot
	// PartFulcioRoot is TrustOptions.FulcioRoot.
	PartFulcioRoot
	// PartTimestampChain is TrustOptions.TimestampCertChain.
	PartTimestampChain
	// PartRekorKey is TrustOptions.RekorPublicKey.
	PartRekorKey
	// PartCTLogKey is TrustOptions.CTLogPublicKey.
	PartCTLogKey
)

// String names the part for messages.
func (p TrustPart) String() string {
	switch p {
	case PartTrustedRoot:
		return "trusted root"
	case PartCachedRoot:
		return "cached trusted root"
	case PartBuiltinRoot:
		return "built-in trusted root"
	case PartFulcioRoot:
		return "Fulcio root"
	case PartTimestampChain:
		return "timestamp authority chain"
	case PartRekorKey:
		return "Rekor public key"
	case PartCTLogKey:
		return "CT log public key"
	}
	return fmt.Sprintf("TrustPart(%d)", int(p))
}

// TrustError is trust material that cannot be read or used: which part,
// the file it was read from ("" for the built-in root), and why.
type TrustError struct {
	Part TrustPart
	Path string
	Err  error
}

// Error says which part, from which file, and why.
func (e *TrustError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %v", e.Part, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Part, e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *TrustError) Unwrap() error { return e.Err }

// builtinRoot parses the built-in root once per process: the bytes are
// part of the binary, so the parse cannot change; the result is only read.
var builtinRoot = sync.OnceValues(parseBuiltinRoot)

func parseBuiltinRoot() (*root.TrustedRoot, error) {
	return root.NewTrustedRootFromJSON(publicGoodRoot)
}

// LoadTrust returns the trust material to verify with, and where it came
// from. It never uses the network: a trusted_root.json named explicitly;
// else the one sigstore-go's TUF client cached in o.TUFCache; else the
// public-good root built into gitsign. The pinned Fulcio roots, TSA chain
// and Rekor and CT log keys replace the matching parts of that root. Its
// errors are *TrustError.
func LoadTrust(o TrustOptions) (root.TrustedMaterial, string, error) {
	var tr *root.TrustedRoot
	var source string
	var err error
	cached := ""
	if o.TrustedRoot == "" {
		cached = tufCachedRoot(o.TUFCache)
	}
	switch {
	case o.TrustedRoot != "":
		if tr, err = root.NewTrustedRootFromPath(o.TrustedRoot); err != nil {
			return nil, "", trustError(PartTrustedRoot, o.TrustedRoot, err)
		}
		source = o.TrustedRoot
	case cached != "":
		if tr, err = root.NewTrustedRootFromPath(cached); err != nil {
			return nil, "", trustError(PartCachedRoot, cached, err)
		}
		source = cached
	default:
		if tr, err = builtinRoot(); err != nil {
			return nil, "", &TrustError{Part: PartBuiltinRoot, Err: err}
		}
		source = "the public-good Sigstore root built into gitsign"
	}
	pinned, err := applyPins(tr, o)
	if err != nil {
		return nil, "", err
	}
	if pinned != tr {
		source += " with pinned keys"
	}
	return pinned, source, nil
}

// mirrorFile, in the TUF cache directory, names the repository `gitsign
// initialize` last fetched from.
const mirrorFile = "gitsign-mirror"

// RememberMirror records which TUF repository the cache in dir is for.
func RememberMirror(dir, mirror string) error {
	if err := os.WriteFile(filepath.Join(dir, mirrorFile), []byte(mirror+"\n"), 0o644); err != nil {
		return fmt.Errorf("recording the TUF mirror: %w", err)
	}
	return nil
}

// tufCachedRoot returns the trusted_root.json sigstore-go's TUF client
// cached in dir (for the repository `gitsign initialize` last used, else
// the public-good one), if there is one.
func tufCachedRoot(dir string) string {
	if dir == "" {
		return ""
	}
	mirror := tuf.DefaultMirror
	if b, err := os.ReadFile(filepath.Join(dir, mirrorFile)); err == nil && len(bytes.TrimSpace(b)) > 0 {
		mirror = string(bytes.TrimSpace(b))
	}
	path := filepath.Join(dir, tuf.URLToPath(mirror), "targets", "trusted_root.json")
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}

// applyPins replaces parts of tr with material pinned by file.
func applyPins(tr *root.TrustedRoot, o TrustOptions) (*root.TrustedRoot, error) {
	if o.FulcioRoot == "" && o.TimestampCertChain == "" && o.RekorPublicKey == "" && o.CTLogPublicKey == "" {
		return tr, nil
	}
	cas, ctlogs, tsas, rekors := tr.FulcioCertificateAuthorities(), tr.CTLogs(), tr.TimestampingAuthorities(), tr.RekorLogs()
	if o.FulcioRoot != "" {
		certs, err := readCerts(o.FulcioRoot)
		if err != nil {
			return nil, trustError(PartFulcioRoot, o.FulcioRoot, err)
		}
		ca := &root.FulcioCertificateAuthority{}
		for _, c := range certs {
			if c.CheckSignatureFrom(c) == nil && ca.Root == nil {
				ca.Root = c
			} else {
				ca.Intermediates = append(ca.Intermediates, c)
			}
		}
		if ca.Root == nil {
			return nil, trustError(PartFulcioRoot, o.FulcioRoot, errors.New("holds no self-signed root certificate"))
		}
		cas = []root.CertificateAuthority{ca}
	}
	if o.TimestampCertChain != "" {
		certs, err := readCerts(o.TimestampCertChain)
		if err != nil {
			return nil, trustError(PartTimestampChain, o.TimestampCertChain, err)
		}
		tsa := &root.SigstoreTimestampingAuthority{Leaf: certs[0]}
		if len(certs) > 1 {
			tsa.Root = certs[len(certs)-1]
			tsa.Intermediates = certs[1 : len(certs)-1]
		} else {
			tsa.Root = certs[0]
		}
		tsas = []root.TimestampingAuthority{tsa}
	}
	var err error
	if o.RekorPublicKey != "" {
		if rekors, err = logFromKey(o.RekorPublicKey); err != nil {
			return nil, trustError(PartRekorKey, o.RekorPublicKey, err)
		}
	}
	if o.CTLogPublicKey != "" {
		if ctlogs, err = logFromKey(o.CTLogPublicKey); err != nil {
			return nil, trustError(PartCTLogKey, o.CTLogPublicKey, err)
		}
	}
	return root.NewTrustedRoot(root.TrustedRootMediaType01, cas, ctlogs, tsas, rekors)
}

// trustError makes a *TrustError, leaving out of its cause the path the
// error already names.
func trustError(part TrustPart, path string, err error) *TrustError {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		err = pe.Err
	}
	return &TrustError{Part: part, Path: path, Err: err}
}

// readCerts reads the PEM certificates in path.
func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("holds no PEM certificate")
	}
	return certs, nil
}

// logFromKey makes a log whose id is sha256 of the key's DER, valid always.
func logFromKey(path string) (map[string]*root.TransparencyLog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("holds no PEM public key")
	}
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	id := sha256.Sum256(b.Bytes)
	return map[string]*root.TransparencyLog{fmt.Sprintf("%x", id): {
		ID: id[:], PublicKey: pub, HashFunc: crypto.SHA256, SignatureHashFunc: crypto.SHA256,
		ValidityPeriodStart: time.Unix(0, 0),
	}}, nil
}
