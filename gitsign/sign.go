package gitsign

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"time"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// Signature is a finished signature and what it was made with.
type Signature struct {
	// PEM is the armored CMS signature, what git stores.
	PEM []byte
	// Cert is the signing certificate.
	Cert *x509.Certificate
	// Time is the signer's signingTime attribute (whole seconds, UTC).
	Time time.Time
	// Entry is the transparency log's entry: embedded in PEM in Offline
	// mode, over the signed object's id in Online mode.
	Entry *protorekor.TransparencyLogEntry
	// Timestamp reports that an RFC 3161 token is embedded in PEM.
	Timestamp bool
}

// Check reports a payload the Signer cannot sign, so that it fails before
// anyone is asked to log in: in Online mode, an attached signature
// (ErrOnlineNotDetached) or a payload that is not a commit or tag
// (ErrOnlineNotGitObject). Sign checks the same.
func (s *Signer) Check(payload []byte, detached bool) error {
	if s.o.Mode != Online {
		return nil
	}
	if !detached {
		return ErrOnlineNotDetached
	}
	if _, err := gitobj.Type(payload); err != nil {
		return fmt.Errorf("%w: %w", ErrOnlineNotGitObject, err)
	}
	return nil
}

// Sign signs payload (a commit or tag without its signature, as git hands
// it over) with cred, and records the signature in the transparency log.
// The steps, in order:
//
//  1. Check, and that the certificate names the Committer, when set;
//  2. the CMS signature, signingTime from Options.Now;
//  3. with a timestamp authority, a timestamp over the signature value,
//     added as an unsigned attribute;
//  4. in Offline mode, the log entry for SHA-256 of the signed attributes,
//     added as an unsigned attribute;
//  5. in Online mode, after the signature is finished, the log entry for
//     SHA-256 of the id the signed object will have, signed with cred.
//
// A failed request is a *StageError, and no Signature is returned.
func (s *Signer) Sign(ctx context.Context, cred *cache.Credential, payload []byte, detached bool) (*Signature, error) {
	if !complete(cred) {
		return nil, ErrNoCredential
	}
	if err := s.Check(payload, detached); err != nil {
		return nil, err
	}
	leaf := cred.Leaf()
	if err := s.checkCommitter(leaf); err != nil {
		return nil, err
	}
	t := s.o.Now().UTC().Truncate(time.Second)
	signed, err := cms.Sign(payload, leaf, cred.Key, t, detached, rand.Reader)
	if err != nil {
		return nil, err
	}
	out := &Signature{Cert: leaf, Time: t}

	if s.tsa != nil {
		done := s.step("getting a timestamp from the timestamp authority")
		token, err := s.tsa.Timestamp(ctx, signed.Signature())
		done(err)
		if err != nil {
			return nil, &StageError{Stage: StageTimestamp, Err: err}
		}
		if err := signed.AddUnsignedAttribute(tsa.OIDTimeStampToken, asn1.RawValue{FullBytes: token}); err != nil {
			return nil, err
		}
		out.Timestamp = true
	}

	if s.o.Mode == Offline {
		attrs, err := signed.SignedAttributes()
		if err != nil {
			return nil, err
		}
		digest := sha256.Sum256(attrs)
		done := s.step("recording the signature in the transparency log")
		entry, err := s.log.Upload(ctx, digest[:], signed.Signature(), leaf)
		done(err)
		if err != nil {
			return nil, &StageError{Stage: StageLog, Err: err}
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

	if s.o.Mode == Online {
		entry, err := s.logObjectID(ctx, cred, payload, out.PEM)
		if err != nil {
			return nil, err
		}
		out.Entry = entry
	}
	return out, nil
}

// complete reports whether cred has a key and a leaf certificate to sign
// with.
func complete(cred *cache.Credential) bool {
	return cred != nil && cred.Key != nil && len(cred.Chain) > 0 && cred.Chain[0] != nil
}

// logObjectID records the id of the signed object in the log: the
// reference's online mode. The entry is over SHA-256 of the 40-hex SHA-1
// id, signed with the same key.
func (s *Signer) logObjectID(ctx context.Context, cred *cache.Credential, payload, sigPEM []byte) (*protorekor.TransparencyLogEntry, error) {
	obj, typ, err := gitobj.WithSignature(payload, sigPEM)
	if err != nil {
		return nil, fmt.Errorf("online mode: %w", err)
	}
	digest := sha256.Sum256([]byte(gitobj.ID(typ, obj)))
	sig, err := cred.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	done := s.step("recording the commit or tag id in the transparency log")
	entry, err := s.log.Upload(ctx, digest[:], sig, cred.Leaf())
	done(err)
	if err != nil {
		return nil, &StageError{Stage: StageLog, Err: err}
	}
	return entry, nil
}
