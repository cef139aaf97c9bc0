package main

// This file holds what every issuer of this program shares: a signing key
// (RS256 or ES256, fresh on every start), the compact JWS of a token, and
// the discovery document and JWKS that Fulcio fetches to check it.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
)

// signingKey is an issuer's key: its URL (the iss claim), the JWS
// algorithm and the key ID its JWKS names.
type signingKey struct {
	url string
	alg string // "RS256" or "ES256"
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	kid string
}

func newSigningKey(issuerURL, alg string) (*signingKey, error) {
	k := &signingKey{url: strings.TrimSuffix(issuerURL, "/"), alg: alg}
	var der []byte
	switch alg {
	case "RS256":
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		k.rsa, der = key, key.PublicKey.N.Bytes()
	case "ES256":
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		k.ec = key
		if der, err = key.PublicKey.Bytes(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	}
	sum := sha256.Sum256(der)
	k.kid = hex.EncodeToString(sum[:8])
	return k, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// sign returns the compact JWS of claims (any JSON-encodable value).
func (k *signingKey) sign(claims any) (string, error) {
	header, err := json.Marshal(map[string]string{"typ": "JWT", "alg": k.alg, "kid": k.kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(header) + "." + b64(payload)
	h := sha256.Sum256([]byte(input))
	var sig []byte
	switch {
	case k.rsa != nil:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, h[:])
	case k.ec != nil:
		// JWS wants r || s, each 32 bytes, not ASN.1.
		var r, s *big.Int
		if r, s, err = ecdsa.Sign(rand.Reader, k.ec, h[:]); err == nil {
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
		}
	default:
		err = errors.New("no key")
	}
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

// jwk is the public key as a JSON Web Key.
func (k *signingKey) jwk() map[string]string {
	if k.ec != nil {
		// The uncompressed point: 0x04 || x || y.
		pt, err := k.ec.PublicKey.Bytes()
		if err != nil || len(pt) != 65 {
			panic(fmt.Sprintf("P-256 public key: %v", err))
		}
		x, y := pt[1:33], pt[33:]
		return map[string]string{"kty": "EC", "use": "sig", "alg": k.alg, "kid": k.kid, "crv": "P-256", "x": b64(x), "y": b64(y)}
	}
	pub := k.rsa.PublicKey
	return map[string]string{
		"kty": "RSA", "use": "sig", "alg": k.alg, "kid": k.kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// publish serves the discovery document (with the fields of extra, which
// may override the defaults) and the JWKS at jwksPath.
func (k *signingKey) publish(mux *http.ServeMux, jwksPath string, claims []string, extra map[string]any) {
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		d := map[string]any{
			"issuer":                                k.url,
			"jwks_uri":                              k.url + jwksPath,
			"subject_types_supported":               []string{"public"},
			"response_types_supported":              []string{"id_token"},
			"id_token_signing_alg_values_supported": []string{k.alg},
			"scopes_supported":                      []string{"openid"},
			"claims_supported":                      claims,
		}
		for name, v := range extra {
			d[name] = v
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("GET "+jwksPath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{k.jwk()}})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
}
