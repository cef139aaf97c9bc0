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
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
)

// publicGoodRoot is the public-good Sigstore trusted root as of the build,
// so a fresh offline machine verifies public-good signatures.
//
//go:embed trusted_root.public-good.json
var publicGoodRoot []byte

// TrustOptions says where trust material comes from.
type TrustOptions struct {
	// TrustedRoot is a trusted_root.json path (--trusted-root,
	// gitsign.trustedRoot, GITSIGN_TRUSTED_ROOT).
	TrustedRoot string
	// FulcioRoot is a PEM file of Fulcio roots and intermediates
	// (gitsign.fulcioRoot, SIGSTORE_ROOT_FILE).
	FulcioRoot string
	// TimestampCertChain is a PEM TSA chain (gitsign.timestampCertChain).
	TimestampCertChain string
	// LookupEnv reads SIGSTORE_REKOR_PUBLIC_KEY, SIGSTORE_CT_LOG_PUBLIC_KEY_FILE
	// and TUF_ROOT; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// LoadTrust returns the trust material to verify with, and where it came
// from. It never uses the network: a trusted_root.json named explicitly;
// else the one sigstore-go's TUF client cached (`gitsign initialize`);
// else the public-good root built into gitsign. The reference's pins
// (Fulcio roots, Rekor and CT log keys, TSA chain) replace the matching
// parts of that root.
func LoadTrust(o TrustOptions) (root.TrustedMaterial, string, error) {
	env := o.LookupEnv
	if env == nil {
		env = os.LookupEnv
	}
	var tr *root.TrustedRoot
	var source string
	var err error
	switch {
	case o.TrustedRoot != "":
		if tr, err = root.NewTrustedRootFromPath(o.TrustedRoot); err != nil {
			return nil, "", fmt.Errorf("trusted root %s: %w", o.TrustedRoot, err)
		}
		source = o.TrustedRoot
	default:
		if path := tufCachedRoot(env); path != "" {
			if tr, err = root.NewTrustedRootFromPath(path); err != nil {
				return nil, "", fmt.Errorf("cached trusted root %s (run `gitsign initialize` to refresh it): %w", path, err)
			}
			source = path
		} else {
			if tr, err = root.NewTrustedRootFromJSON(publicGoodRoot); err != nil {
				return nil, "", fmt.Errorf("built-in trusted root: %w", err)
			}
			source = "the public-good Sigstore root built into gitsign"
		}
	}
	pinned, err := applyPins(tr, o, env)
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
// cached (for the repository `gitsign initialize` last used, else the
// public-good one), if there is one.
func tufCachedRoot(env func(string) (string, bool)) string {
	dir, ok := env("TUF_ROOT")
	if !ok || dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".sigstore", "tuf")
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
func applyPins(tr *root.TrustedRoot, o TrustOptions, env func(string) (string, bool)) (*root.TrustedRoot, error) {
	rekorKey, _ := env("SIGSTORE_REKOR_PUBLIC_KEY")
	ctKey, _ := env("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE")
	if o.FulcioRoot == "" && o.TimestampCertChain == "" && rekorKey == "" && ctKey == "" {
		return tr, nil
	}
	cas, ctlogs, tsas, rekors := tr.FulcioCertificateAuthorities(), tr.CTLogs(), tr.TimestampingAuthorities(), tr.RekorLogs()
	if o.FulcioRoot != "" {
		certs, err := readCerts(o.FulcioRoot)
		if err != nil {
			return nil, fmt.Errorf("fulcio root: %w", err)
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
			return nil, fmt.Errorf("fulcio root %s holds no self-signed root certificate", o.FulcioRoot)
		}
		cas = []root.CertificateAuthority{ca}
	}
	if o.TimestampCertChain != "" {
		certs, err := readCerts(o.TimestampCertChain)
		if err != nil {
			return nil, fmt.Errorf("timestamp authority chain: %w", err)
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
	if rekorKey != "" {
		if rekors, err = logFromKey(rekorKey); err != nil {
			return nil, fmt.Errorf("SIGSTORE_REKOR_PUBLIC_KEY: %w", err)
		}
	}
	if ctKey != "" {
		if ctlogs, err = logFromKey(ctKey); err != nil {
			return nil, fmt.Errorf("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: %w", err)
		}
	}
	return root.NewTrustedRoot(root.TrustedRootMediaType01, cas, ctlogs, tsas, rekors)
}

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
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
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
		return nil, errors.New(path + " holds no PEM public key")
	}
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	id := sha256.Sum256(b.Bytes)
	return map[string]*root.TransparencyLog{fmt.Sprintf("%x", id): {
		ID: id[:], PublicKey: pub, HashFunc: crypto.SHA256, SignatureHashFunc: crypto.SHA256,
		ValidityPeriodStart: time.Unix(0, 0),
	}}, nil
}
