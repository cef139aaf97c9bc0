package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/github/smimesign/ietf-cms/protocol"
)

// maxSignature bounds the signatures Parse reads; real ones are ~5 KiB.
const maxSignature = 1 << 20

// Parsed is a SignedData read back, with its one signer.
type Parsed struct {
	SignedData *protocol.SignedData
	Signer     protocol.SignerInfo
	// Cert is the certificate the SignerInfo names (issuer and serial, or
	// subject key id), not merely the first one in the bag.
	Cert *x509.Certificate
}

// Parse reads an armored (SIGNED MESSAGE) or DER signature holding
// exactly one SignerInfo whose certificate is in the bag.
func Parse(sig []byte) (*Parsed, error) {
	if len(sig) > maxSignature {
		return nil, fmt.Errorf("signature is %d bytes, more than the %d allowed", len(sig), maxSignature)
	}
	der := sig
	if trimmed := bytes.TrimSpace(sig); bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		block, rest := pem.Decode(trimmed)
		if block == nil {
			return nil, errors.New("signature: malformed PEM block")
		}
		if block.Type != PEMType {
			return nil, fmt.Errorf("signature: PEM block is %q, want %q", block.Type, PEMType)
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return nil, errors.New("signature: data after the PEM block")
		}
		der = block.Bytes
	}
	ci, err := parseContentInfo(der)
	if err != nil {
		return nil, fmt.Errorf("signature: not CMS: %w", err)
	}
	sd, err := ci.SignedDataContent()
	if err != nil {
		return nil, fmt.Errorf("signature: not CMS SignedData: %w", err)
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("signature: %d signers, want exactly 1", len(sd.SignerInfos))
	}
	certs, err := sd.X509Certificates()
	if err != nil {
		return nil, fmt.Errorf("signature: bad certificate: %w", err)
	}
	if len(certs) == 0 {
		return nil, errors.New("signature: carries no certificate")
	}
	si := sd.SignerInfos[0]
	cert, err := si.FindCertificate(certs)
	if err != nil {
		return nil, fmt.Errorf("signature: the signer's certificate is not in the signature: %w", err)
	}
	return &Parsed{SignedData: sd, Signer: si, Cert: cert}, nil
}

// SignedAttributes returns the DER SET of the signed attributes, in the
// order received: the bytes the signature covers.
func (p *Parsed) SignedAttributes() ([]byte, error) {
	if len(p.Signer.SignedAttrs) == 0 {
		return nil, errors.New("signature: no signed attributes")
	}
	return p.Signer.SignedAttrs.MarshaledForVerification()
}

// UnsignedAttribute returns the encoding of the single value of unsigned
// attribute typ, or nil when the attribute is absent.
func (p *Parsed) UnsignedAttribute(typ asn1.ObjectIdentifier) ([]byte, error) {
	if !p.Signer.UnsignedAttrs.HasAttribute(typ) {
		return nil, nil
	}
	rv, err := p.Signer.UnsignedAttrs.GetOnlyAttributeValueBytes(typ)
	if err != nil {
		return nil, fmt.Errorf("signature: attribute %s: %w", typ, err)
	}
	return rv.FullBytes, nil
}

// parseContentInfo is ietf-cms's parser, whose BER reader can panic on
// malformed input; a panic becomes an error, never a crash or a success.
func parseContentInfo(der []byte) (ci protocol.ContentInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed BER/DER (%v)", r)
		}
	}()
	return protocol.ParseContentInfo(der)
}
