// Package dsse is the Dead Simple Signing Envelope (DSSE) as gitsign
// attestations use it: the pre-authentication encoding a signature signs,
// and the envelope's JSON with one signature and no key id, byte for byte
// as the reference implementation writes it.
package dsse

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
)

// PayloadTypeInToto is the payload type of an in-toto statement.
const PayloadTypeInToto = "application/vnd.in-toto+json"

// PAE is the pre-authentication encoding of a payload and its type:
// "DSSEv1 LEN(type) type LEN(payload) payload", what a DSSE signature
// signs.
func PAE(payloadType string, payload []byte) []byte {
	out := []byte("DSSEv1 " + strconv.Itoa(len(payloadType)) + " " + payloadType + " " + strconv.Itoa(len(payload)) + " ")
	return append(out, payload...)
}

// Signature is one signature of an envelope, in JSON.
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"` // standard base64
}

// JSON is an envelope in JSON: the payload and signatures in standard
// base64.
type JSON struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"`
	Signatures  []Signature `json:"signatures"`
}

// Marshal returns the JSON of the envelope of payload with one signature
// sig and an empty key id.
func Marshal(payloadType string, payload, sig []byte) ([]byte, error) {
	return json.Marshal(JSON{
		PayloadType: payloadType,
		Payload:     base64.StdEncoding.EncodeToString(payload),
		Signatures:  []Signature{{Sig: base64.StdEncoding.EncodeToString(sig)}},
	})
}
