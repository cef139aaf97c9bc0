package cache

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// ExpiryMargin is how long before its certificate's NotAfter a credential
// stops being handed out. Signing after a cache hit still takes a log
// upload and maybe a timestamp, each with its timeout and retries (30
// seconds per attempt by default); the certificate must outlive them, or
// the signature's log time would fall outside its validity. A Fulcio
// certificate lasts 10 minutes, so a login serves for 8.
const ExpiryMargin = 2 * time.Minute

// Limits on what a credential and a key may hold. They bound the agent's
// memory and every message, and are far above real values (a Fulcio chain
// is two or three certificates of about a kilobyte).
const (
	maxField     = 1024 // bytes in a Key field
	maxChain     = 8    // certificates in a chain
	maxCertBytes = 8 << 10
	maxKeyBytes  = 8 << 10
)

// Key names what a credential was issued for: the Sigstore instance and
// the OIDC client. Two repositories with the same Key share credentials.
type Key struct {
	Fulcio   string // Fulcio URL
	Issuer   string // OIDC issuer URL
	ClientID string // OIDC client id
}

// String returns the key as URL query text: readable and unambiguous.
// The keyring uses it as the account name.
func (k Key) String() string {
	return url.Values{"fulcio": {k.Fulcio}, "issuer": {k.Issuer}, "client_id": {k.ClientID}}.Encode()
}

func (k Key) validate() error {
	for _, f := range []struct{ name, v string }{{"Fulcio URL", k.Fulcio}, {"issuer", k.Issuer}, {"client id", k.ClientID}} {
		if f.v == "" {
			return fmt.Errorf("cache: key has no %s", f.name)
		}
		if len(f.v) > maxField {
			return fmt.Errorf("cache: key %s is %d bytes, more than %d", f.name, len(f.v), maxField)
		}
	}
	return nil
}

// Credential is an ephemeral private key and the certificate chain Fulcio
// issued for it, leaf first. Its String and GoString methods never reveal
// the key.
type Credential struct {
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// Leaf returns the signing certificate.
func (c *Credential) Leaf() *x509.Certificate { return c.Chain[0] }

// String describes the credential by its certificate only.
func (c *Credential) String() string {
	if len(c.Chain) == 0 {
		return "credential without a certificate"
	}
	l := c.Leaf()
	return fmt.Sprintf("credential for %v%v (serial %s, valid until %s)", l.EmailAddresses, l.URIs, l.SerialNumber, l.NotAfter.UTC().Format(time.RFC3339))
}

// GoString keeps %#v from printing the private key.
func (c *Credential) GoString() string { return c.String() }

// usableAt reports whether c may be handed out at now.
func (c *Credential) usableAt(now time.Time) bool {
	return now.Add(ExpiryMargin).Before(c.Leaf().NotAfter)
}

// ErrExpired is returned when storing a credential whose certificate is
// already within ExpiryMargin of its end.
var ErrExpired = errors.New("cache: certificate expires too soon to cache")

// check validates a credential's shape: a chain of sensible length whose
// leaf certifies the private key.
func (c *Credential) check() error {
	if c == nil || c.Key == nil {
		return errors.New("cache: credential has no private key")
	}
	if len(c.Chain) == 0 || len(c.Chain) > maxChain {
		return fmt.Errorf("cache: credential has %d certificates, want 1 to %d", len(c.Chain), maxChain)
	}
	for _, cert := range c.Chain {
		if cert == nil {
			return errors.New("cache: credential has an empty certificate")
		}
	}
	pub, ok := c.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(c.Leaf().PublicKey) {
		return errors.New("cache: the certificate is not for the credential's private key")
	}
	return nil
}

// rawCredential is a credential as it travels: a PKCS#8 private key and
// DER certificates, leaf first.
type rawCredential struct {
	key   []byte
	chain [][]byte
}

func (c *Credential) marshal() (rawCredential, error) {
	if err := c.check(); err != nil {
		return rawCredential{}, err
	}
	key, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return rawCredential{}, fmt.Errorf("cache: encoding the private key: %w", err)
	}
	raw := rawCredential{key: key}
	for _, cert := range c.Chain {
		raw.chain = append(raw.chain, cert.Raw)
	}
	return raw, nil
}

func (r rawCredential) parse() (*Credential, error) {
	k, err := x509.ParsePKCS8PrivateKey(r.key)
	if err != nil {
		return nil, fmt.Errorf("cache: private key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("cache: private key of type %T cannot sign", k)
	}
	c := &Credential{Key: signer}
	for i, der := range r.chain {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("cache: certificate %d: %w", i, err)
		}
		c.Chain = append(c.Chain, cert)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// Entry describes a cached credential without its private key.
type Entry struct {
	Key  Key
	Leaf *x509.Certificate
}
