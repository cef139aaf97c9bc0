// Package gitsign signs git objects keylessly: it obtains an identity (an
// ephemeral P-256 key and a Fulcio certificate for an OIDC identity),
// makes the CMS signature git stores, timestamps it when asked, and records
// it in a Rekor transparency log.
//
// In offline mode (the default) the log entry, with its inclusion proof and
// signed entry timestamp or checkpoint, is embedded in the signature, so it
// verifies with no network. Online mode (the reference implementation's
// default) logs the commit or tag id instead and embeds nothing.
package gitsign

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// Identity is what signing needs from a login: the ephemeral key and the
// certificate chain Fulcio issued for it, leaf first.
type Identity struct {
	Key   *ecdsa.PrivateKey
	Chain []*x509.Certificate
}

// Leaf returns the signing certificate.
func (id *Identity) Leaf() *x509.Certificate { return id.Chain[0] }

// Signature is a finished signature and what the person should be told.
type Signature struct {
	PEM       []byte                           // armored CMS, what git stores
	Cert      *x509.Certificate                // the signing certificate
	Time      time.Time                        // signingTime attribute
	Entry     *protorekor.TransparencyLogEntry // the log entry made
	Timestamp bool                             // an RFC 3161 token was added
}

// Signer signs payloads with one identity under one configuration.
type Signer struct {
	Config *config.Config
	HTTP   *httpx.Client
	Now    func() time.Time // nil = time.Now
	// Progress is told of each request to the timestamp authority and
	// the transparency log; nil announces nothing.
	Progress Progress
}

// Sign signs payload (a commit or tag without its signature, as git passes
// it) with id, and records the signature in the transparency log.
func (s *Signer) Sign(ctx context.Context, id *Identity, payload []byte, detached bool) (*Signature, error) {
	cfg := s.Config
	if err := CheckRequest(cfg, payload, detached); err != nil {
		return nil, err
	}
	if cfg.MatchCommitter {
		if err := matchCommitter(cfg, id.Leaf()); err != nil {
			return nil, err
		}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC().Truncate(time.Second)
	signed, err := cms.Sign(payload, id.Leaf(), id.Key, t, detached, rand.Reader)
	if err != nil {
		return nil, err
	}
	out := &Signature{Cert: id.Leaf(), Time: t}

	if cfg.TimestampURL != "" {
		tc := &tsa.Client{URL: cfg.TimestampURL, HTTP: s.HTTP}
		done := s.Progress.start("getting a timestamp from the timestamp authority")
		token, err := tc.Timestamp(ctx, signed.Signature())
		done(err)
		if err != nil {
			return nil, err
		}
		if err := signed.AddUnsignedAttribute(tsa.OIDTimeStampToken, asn1.RawValue{FullBytes: token}); err != nil {
			return nil, err
		}
		out.Timestamp = true
	}

	log := &rekor.Client{URL: cfg.Rekor, Version: cfg.RekorVersion, HTTP: s.HTTP}
	if cfg.RekorMode != config.ModeOnline {
		attrs, err := signed.SignedAttributes()
		if err != nil {
			return nil, err
		}
		digest := sha256.Sum256(attrs)
		done := s.Progress.start("recording the signature in the transparency log")
		entry, err := log.Upload(ctx, digest[:], signed.Signature(), id.Leaf())
		done(err)
		if err != nil {
			return nil, err
		}
		embedded, err := rekor.EncodeEntry(entry)
		if err != nil {
			return nil, err
		}
		if err := signed.AddUnsignedAttribute(rekor.OIDTransparencyLogEntry, embedded); err != nil {
			return nil, err
		}
		out.Entry = entry
	}

	der, err := signed.DER()
	if err != nil {
		return nil, err
	}
	out.PEM = cms.Armor(der)

	if cfg.RekorMode == config.ModeOnline {
		entry, err := s.logObjectID(ctx, log, id, payload, out.PEM)
		if err != nil {
			return nil, err
		}
		out.Entry = entry
	}
	return out, nil
}

// logObjectID records the id of the signed object in the log: the
// reference's online mode. The entry is over sha256 of the 40-hex SHA-1 id,
// signed with the same key.
func (s *Signer) logObjectID(ctx context.Context, log *rekor.Client, id *Identity, payload, sigPEM []byte) (*protorekor.TransparencyLogEntry, error) {
	obj, typ, err := gitobj.WithSignature(payload, sigPEM)
	if err != nil {
		return nil, fmt.Errorf("online mode: %w", err)
	}
	oid := gitobj.ID(typ, obj)
	digest := sha256.Sum256([]byte(oid))
	sig, err := ecdsa.SignASN1(rand.Reader, id.Key, digest[:])
	if err != nil {
		return nil, err
	}
	done := s.Progress.start("recording the commit or tag id in the transparency log")
	entry, err := log.Upload(ctx, digest[:], sig, id.Leaf())
	done(err)
	return entry, err
}

// Errors of CheckRequest for a configuration that cannot sign.
var (
	// ErrNeedsTimestampAuthority: Rekor v2 without a timestamp authority.
	ErrNeedsTimestampAuthority = errors.New("rekor v2 gives no signed time, so signing with it needs a timestamp authority")
	// ErrOnlineNeedsRekorV1: online mode with Rekor v2.
	ErrOnlineNeedsRekorV1 = errors.New("online mode needs a Rekor v1 log (Rekor v2 cannot be searched)")
)

// CheckRequest reports a configuration or payload that cannot be signed, so
// that it fails before anyone is asked to log in.
func CheckRequest(cfg *config.Config, payload []byte, detached bool) error {
	if cfg.RekorVersion == 2 && cfg.TimestampURL == "" {
		return ErrNeedsTimestampAuthority
	}
	if cfg.RekorVersion == 2 && cfg.RekorMode == config.ModeOnline {
		return ErrOnlineNeedsRekorV1
	}
	if cfg.RekorMode == config.ModeOnline {
		if !detached {
			return errors.New("online mode signs git objects only, as detached signatures")
		}
		if _, err := gitobj.Type(payload); err != nil {
			return fmt.Errorf("online mode: %w", err)
		}
	}
	return nil
}

// CommitterMismatchError is a certificate that does not name the
// committer, when the configuration asks that it must (MatchCommitter).
type CommitterMismatchError struct {
	Emails, URIs []string // the certificate's identities
	Name, Email  string   // the committer
}

func (e *CommitterMismatchError) Error() string {
	return fmt.Sprintf("the certificate names %v %v, not the committer %q <%s>", e.Emails, e.URIs, e.Name, e.Email)
}

// matchCommitter checks that the certificate names the committer
// configured in git (user.email, or user.name for URI identities).
func matchCommitter(cfg *config.Config, cert *x509.Certificate) error {
	for _, e := range cert.EmailAddresses {
		if cfg.CommitterEmail != "" && e == cfg.CommitterEmail {
			return nil
		}
	}
	for _, u := range cert.URIs {
		if cfg.CommitterName != "" && u.String() == cfg.CommitterName {
			return nil
		}
	}
	uris := make([]string, len(cert.URIs))
	for i, u := range cert.URIs {
		uris[i] = u.String()
	}
	return &CommitterMismatchError{Emails: cert.EmailAddresses, URIs: uris, Name: cfg.CommitterName, Email: cfg.CommitterEmail}
}
