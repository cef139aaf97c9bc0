package tsa

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/gitsign-dev/gitsign/internal/cms"
)

// oidTSTInfo is id-ct-TSTInfo, the content type of a timestamp token.
var oidTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}

// CheckTokenForm checks that a TimeStampToken embedded in a signature is
// in the form a Sigstore timestamp authority issues: a DER ContentInfo,
// re-encoding to the same bytes, holding a SignedData over a TSTInfo with
// one SignerInfo that has no unsigned attributes, and exactly one
// certificate, the one that SignerInfo names. The authority signs
// everything else in the token, so these rules leave nobody but the
// authority a way to change the token's bytes (and with them the id of
// the object it is embedded in). It checks form only: sigstore-go
// verifies the token against the trusted root.
//
// The caller bounds the token's size and nesting (it is part of a
// signature that cms.Parse has checked).
func CheckTokenForm(token []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("timestamp token: malformed (%v)", r)
		}
	}()
	ci, err := cms.ContentInfo(token)
	if err != nil {
		return fmt.Errorf("timestamp token: not CMS: %v", err)
	}
	sd, err := ci.SignedDataContent()
	if err != nil {
		return fmt.Errorf("timestamp token: not CMS SignedData: %v", err)
	}
	if again, err := sd.ContentInfoDER(); err != nil || !bytes.Equal(again, token) {
		return errors.New("timestamp token: not in canonical DER form (its re-encoding differs)")
	}
	if !sd.EncapContentInfo.EContentType.Equal(oidTSTInfo) {
		return fmt.Errorf("timestamp token: content type %s, want id-ct-TSTInfo", sd.EncapContentInfo.EContentType)
	}
	if len(sd.SignerInfos) != 1 {
		return fmt.Errorf("timestamp token: %d signers, want 1", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	if len(si.UnsignedAttrs) != 0 {
		return fmt.Errorf("timestamp token: %d unsigned attributes, want none", len(si.UnsignedAttrs))
	}
	if sd.CRLs != nil {
		return errors.New("timestamp token: carries revocation lists")
	}
	if len(sd.Certificates) != 1 {
		return fmt.Errorf("timestamp token: carries %d certificates, want only the authority's", len(sd.Certificates))
	}
	certs, err := sd.X509Certificates()
	if err != nil {
		return fmt.Errorf("timestamp token: bad certificate: %v", err)
	}
	if _, err := si.FindCertificate(certs); err != nil {
		return errors.New("timestamp token: its certificate is not the one its signer names")
	}
	return nil
}
