package main

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
)

// oidSCTList is the X.509 extension with the embedded SCTs (RFC 6962).
var oidSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}

// sctLogIDs returns the log id of each SCT embedded in cert, in order.
func sctLogIDs(cert *x509.Certificate) ([][]byte, error) {
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSCTList) {
			continue
		}
		var list []byte
		if rest, err := asn1.Unmarshal(ext.Value, &list); err != nil || len(rest) != 0 {
			return nil, errors.New("SCT list extension is not an OCTET STRING")
		}
		ids, err := parseSCTList(list)
		if err != nil {
			return nil, fmt.Errorf("SCT list: %w", err)
		}
		return ids, nil
	}
	return nil, nil
}

// parseSCTList reads a TLS-encoded SignedCertificateTimestampList (RFC
// 6962 section 3.3) and returns the log id of each v1 SCT.
func parseSCTList(b []byte) ([][]byte, error) {
	list, rest, err := vector16(b)
	if err != nil || len(rest) != 0 {
		return nil, errors.New("bad list length")
	}
	var ids [][]byte
	for len(list) > 0 {
		var sct []byte
		if sct, list, err = vector16(list); err != nil {
			return nil, err
		}
		// version (1 byte, v1 = 0), then the 32-byte log id.
		if len(sct) < 1+32 {
			return nil, errors.New("truncated SCT")
		}
		if sct[0] != 0 {
			return nil, fmt.Errorf("SCT version %d", sct[0])
		}
		ids = append(ids, sct[1:33])
	}
	return ids, nil
}

// vector16 splits off a vector with a 2-byte length prefix.
func vector16(b []byte) (body, rest []byte, err error) {
	if len(b) < 2 {
		return nil, nil, errors.New("truncated length")
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b)-2 < n {
		return nil, nil, errors.New("length past the end")
	}
	return b[2 : 2+n], b[2+n:], nil
}
