package main

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
)

// trustedRoot is what the floor needs of a Sigstore trusted_root.json: the
// certificate chains of the Fulcio CAs and timestamp authorities (leaf or
// intermediate first, the trust anchor last) and the keys of the
// transparency and CT logs, by log id.
type trustedRoot struct {
	cas    [][]*x509.Certificate
	tsas   [][]*x509.Certificate
	tlogs  []logKey
	ctlogs []logKey
}

// logKey is one log of the trusted root.
type logKey struct {
	url string
	id  []byte
	key crypto.PublicKey
}

// The JSON form (protobuf JSON: bytes in standard base64).
type jsonRoot struct {
	CertificateAuthorities []jsonCA  `json:"certificateAuthorities"`
	Tlogs                  []jsonLog `json:"tlogs"`
	Ctlogs                 []jsonLog `json:"ctlogs"`
	TimestampAuthorities   []jsonCA  `json:"timestampAuthorities"`
}

type jsonCA struct {
	CertChain struct {
		Certificates []struct {
			RawBytes []byte `json:"rawBytes"`
		} `json:"certificates"`
	} `json:"certChain"`
}

type jsonLog struct {
	BaseURL   string `json:"baseUrl"`
	PublicKey struct {
		RawBytes []byte `json:"rawBytes"`
	} `json:"publicKey"`
	LogID struct {
		KeyID []byte `json:"keyId"`
	} `json:"logId"`
}

func loadTrustedRoot(path string) (*trustedRoot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseTrustedRoot(b)
}

func parseTrustedRoot(b []byte) (*trustedRoot, error) {
	var j jsonRoot
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	tr := &trustedRoot{}
	var err error
	if tr.cas, err = chains(j.CertificateAuthorities); err != nil {
		return nil, fmt.Errorf("trusted root: certificate authority: %w", err)
	}
	if tr.tsas, err = chains(j.TimestampAuthorities); err != nil {
		return nil, fmt.Errorf("trusted root: timestamp authority: %w", err)
	}
	if tr.tlogs, err = logKeys(j.Tlogs); err != nil {
		return nil, fmt.Errorf("trusted root: tlog: %w", err)
	}
	if tr.ctlogs, err = logKeys(j.Ctlogs); err != nil {
		return nil, fmt.Errorf("trusted root: ctlog: %w", err)
	}
	return tr, nil
}

func chains(cas []jsonCA) ([][]*x509.Certificate, error) {
	var out [][]*x509.Certificate
	for _, ca := range cas {
		var chain []*x509.Certificate
		for _, c := range ca.CertChain.Certificates {
			cert, err := x509.ParseCertificate(c.RawBytes)
			if err != nil {
				return nil, err
			}
			chain = append(chain, cert)
		}
		if len(chain) == 0 {
			return nil, fmt.Errorf("empty certificate chain")
		}
		out = append(out, chain)
	}
	return out, nil
}

func logKeys(logs []jsonLog) ([]logKey, error) {
	var out []logKey
	for _, l := range logs {
		key, err := x509.ParsePKIXPublicKey(l.PublicKey.RawBytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.BaseURL, err)
		}
		out = append(out, logKey{url: l.BaseURL, id: l.LogID.KeyID, key: key})
	}
	return out, nil
}

// findLog returns the log with this id, or nil.
func findLog(logs []logKey, id []byte) *logKey {
	for i := range logs {
		if bytes.Equal(logs[i].id, id) {
			return &logs[i]
		}
	}
	return nil
}

// chainSteps returns the certificates that verify cert up to the trust
// anchor of one of the chains: for each step, the issuer whose signature
// on the certificate below must be checked. The anchor is the last
// certificate of a chain, as sigstore-go treats it; its own signature is
// not a step. It returns nil when no chain issued cert.
func chainSteps(chains [][]*x509.Certificate, cert *x509.Certificate) []*x509.Certificate {
	for _, chain := range chains {
		anchor := chain[len(chain)-1]
		if cert.Equal(anchor) {
			return []*x509.Certificate{}
		}
		var steps []*x509.Certificate
		cur := cert
		for range chain {
			issuer := issuerIn(chain, cur)
			if issuer == nil {
				break
			}
			steps = append(steps, issuer)
			if issuer == anchor {
				return steps
			}
			cur = issuer
		}
	}
	return nil
}

// issuerIn returns the certificate of chain that issued cert: its subject
// is cert's issuer and its key verifies cert's signature.
func issuerIn(chain []*x509.Certificate, cert *x509.Certificate) *x509.Certificate {
	for _, c := range chain {
		if c != cert && bytes.Equal(c.RawSubject, cert.RawIssuer) && cert.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}
