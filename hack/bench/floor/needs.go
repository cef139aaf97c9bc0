package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"sort"

	"github.com/digitorus/timestamp"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// need is one signature verification a signature needs: the algorithm of
// the key that checks it and what it is. count is how many signatures
// needed it (in a summary).
type need struct {
	alg   string
	what  string
	count int
}

// needsOf lists the signature verifications that verifying sig (armored,
// as git stores it) needs under tr, in the order a verifier meets them.
// certID and checkpoint identify the signer's certificate and the
// checkpoint note, for counting distinct ones.
func needsOf(sig []byte, tr *trustedRoot) (needs []need, certID [32]byte, checkpoint string, err error) {
	p, err := cms.Parse(sig)
	if err != nil {
		return nil, certID, "", err
	}
	leaf := p.Cert
	certID = sha256.Sum256(leaf.Raw)
	add := func(alg, format string, args ...any) {
		needs = append(needs, need{alg: alg, what: fmt.Sprintf(format, args...)})
	}
	alg, err := algOf(leaf.PublicKey)
	if err != nil {
		return nil, certID, "", fmt.Errorf("signer's certificate: %w", err)
	}
	add(alg, "CMS signature over the signed attributes (the signer's key)")

	steps := chainSteps(tr.cas, leaf)
	if steps == nil {
		return nil, certID, "", fmt.Errorf("no certificate authority of the trusted root issued %q", leaf.Issuer)
	}
	cur := leaf
	for _, issuer := range steps {
		if alg, err = algOf(issuer.PublicKey); err != nil {
			return nil, certID, "", fmt.Errorf("%s: %w", name(issuer), err)
		}
		add(alg, "certificate %s by %s", name(cur), name(issuer))
		cur = issuer
	}

	scts, err := sctLogIDs(leaf)
	if err != nil {
		return nil, certID, "", err
	}
	for _, id := range scts {
		if l := findLog(tr.ctlogs, id); l != nil {
			if alg, err = algOf(l.key); err != nil {
				return nil, certID, "", fmt.Errorf("CT log %s: %w", l.url, err)
			}
			add(alg, "SCT by CT log %s", l.url)
		}
	}

	if raw := p.UnsignedAttribute(rekor.OIDTransparencyLogEntry); raw != nil {
		var octets []byte
		if rest, err := asn1.Unmarshal(raw, &octets); err != nil || len(rest) != 0 {
			return nil, certID, "", fmt.Errorf("embedded log entry is not an OCTET STRING")
		}
		tle, err := rekor.DecodeEntry(octets)
		if err != nil {
			return nil, certID, "", err
		}
		l := findLog(tr.tlogs, tle.GetLogId().GetKeyId())
		if l == nil {
			return nil, certID, "", fmt.Errorf("the trusted root has no transparency log %x", tle.GetLogId().GetKeyId())
		}
		if alg, err = algOf(l.key); err != nil {
			return nil, certID, "", fmt.Errorf("transparency log %s: %w", l.url, err)
		}
		if len(tle.GetInclusionPromise().GetSignedEntryTimestamp()) > 0 {
			add(alg, "signed entry timestamp (SET) by log %s", l.url)
		}
		if checkpoint = tle.GetInclusionProof().GetCheckpoint().GetEnvelope(); checkpoint != "" {
			add(alg, "checkpoint by log %s", l.url)
		}
	}

	if tok := p.UnsignedAttribute(tsa.OIDTimeStampToken); tok != nil {
		chain, err := tsaChain(tok, tr.tsas)
		if err != nil {
			return nil, certID, "", err
		}
		if alg, err = algOf(chain[0].PublicKey); err != nil {
			return nil, certID, "", fmt.Errorf("%s: %w", name(chain[0]), err)
		}
		add(alg, "timestamp token by %s", name(chain[0]))
		for i := 0; i+1 < len(chain); i++ {
			if alg, err = algOf(chain[i+1].PublicKey); err != nil {
				return nil, certID, "", fmt.Errorf("%s: %w", name(chain[i+1]), err)
			}
			add(alg, "certificate %s by %s", name(chain[i]), name(chain[i+1]))
		}
	}
	return needs, certID, checkpoint, nil
}

// tsaChain returns the chain of the timestamp authority that signed tok:
// the one whose signing certificate the token carries, else the only one.
func tsaChain(tok []byte, tsas [][]*x509.Certificate) (chain []*x509.Certificate, err error) {
	defer func() {
		if r := recover(); r != nil {
			chain, err = nil, fmt.Errorf("timestamp token: malformed (%v)", r)
		}
	}()
	t, err := timestamp.Parse(tok)
	if err != nil {
		return nil, fmt.Errorf("timestamp token: %w", err)
	}
	for _, c := range tsas {
		if len(t.Certificates) > 0 && bytes.Equal(c[0].Raw, t.Certificates[0].Raw) {
			return c, nil
		}
	}
	if len(tsas) == 1 {
		return tsas[0], nil
	}
	return nil, fmt.Errorf("timestamp token: cannot tell which of the trusted root's %d timestamp authorities signed it", len(tsas))
}

// name is how a certificate is named in the list: its common name, else
// a CA's whole subject; a leaf without a common name (Fulcio's) is the
// signer's.
func name(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case c.IsCA:
		return c.Subject.String()
	default:
		return "of the signer"
	}
}

// summary is what a set of signatures needs, counted over all of them.
type summary struct {
	signatures   int
	certificates int // distinct signer certificates
	checkpoints  int // distinct checkpoint notes
	needs        []need
}

// summarize counts the needs of every signature, keeping the order in
// which each kind of need first appeared.
func summarize(sigs [][]byte, tr *trustedRoot) (*summary, error) {
	s := &summary{signatures: len(sigs)}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("no signatures")
	}
	certs := map[[32]byte]bool{}
	notes := map[string]bool{}
	index := map[need]int{}
	for i, sig := range sigs {
		needs, certID, note, err := needsOf(sig, tr)
		if err != nil {
			return nil, fmt.Errorf("signature %d: %w", i+1, err)
		}
		certs[certID] = true
		if note != "" {
			notes[note] = true
		}
		for _, n := range needs {
			k, ok := index[n]
			if !ok {
				k = len(s.needs)
				index[n] = k
				s.needs = append(s.needs, n)
			}
			s.needs[k].count++
		}
	}
	s.certificates, s.checkpoints = len(certs), len(notes)
	sort.SliceStable(s.needs, func(i, j int) bool { return s.needs[i].count > s.needs[j].count })
	return s, nil
}
