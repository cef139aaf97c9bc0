// Package gpg writes the GnuPG status lines ("[GNUPG:] KEYWORD args") that
// git parses from gpg.x509.program, as gpgsm documents them in doc/DETAILS.
//
// When signing, git requires a line starting with "[GNUPG:] SIG_CREATED ";
// when verifying, "\n[GNUPG:] GOODSIG " and exactly one of the exclusive
// *SIG statuses, so a writer starts the stream with BEGIN_SIGNING or NEWSIG.
package gpg

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// Public key algorithm numbers (RFC 4880 9.1) and hash algorithm numbers
// (RFC 4880 9.4) used in SIG_CREATED and VALIDSIG.
const (
	PubKeyRSA   = 1
	PubKeyECDSA = 19
	PubKeyEdDSA = 22

	HashSHA256 = 8
	HashSHA384 = 9
	HashSHA512 = 10
)

// Status writes status lines to the file descriptor git named.
type Status struct {
	w io.Writer
}

// NewStatus returns a writer for --status-fd=fd: none for a negative fd,
// standard output for 1, standard error for 2, else that descriptor.
func NewStatus(fd int) *Status {
	switch {
	case fd < 0:
		return &Status{w: io.Discard}
	case fd == 1:
		return &Status{w: os.Stdout}
	case fd == 2:
		return &Status{w: os.Stderr}
	}
	return &Status{w: os.NewFile(uintptr(fd), fmt.Sprintf("status-fd-%d", fd))}
}

// NewStatusWriter returns a Status writing to w (tests).
func NewStatusWriter(w io.Writer) *Status { return &Status{w: w} }

func (s *Status) emit(format string, args ...any) {
	fmt.Fprintf(s.w, "[GNUPG:] "+format+"\n", args...)
}

// BeginSigning announces a signature.
func (s *Status) BeginSigning() { s.emit("BEGIN_SIGNING") }

// SigCreated reports a finished signature: D for detached, else S; the
// signing key's algorithm, the digest used, the signature time and the
// certificate fingerprint.
func (s *Status) SigCreated(detached bool, pkAlgo, hashAlgo int, t time.Time, fpr string) {
	typ := "S"
	if detached {
		typ = "D"
	}
	s.emit("SIG_CREATED %s %d %d 00 %d %s", typ, pkAlgo, hashAlgo, t.Unix(), fpr)
}

// Fingerprint is the certificate fingerprint gitsign reports: lowercase hex
// SHA-1 of the certificate's DER, as the reference does.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha1.Sum(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// NewSig starts the report on one signature.
func (s *Status) NewSig() { s.emit("NEWSIG") }

// GoodSig reports a good signature by the certificate fpr names, whose
// identity (user id, for git's %GS) is uid.
func (s *Status) GoodSig(fpr, uid string) { s.emit("GOODSIG %s %s", fpr, clean(uid)) }

// ValidSig reports the good signature's details: fingerprint, creation
// date and time, no expiry, version 0, algorithms, class 00, and the
// primary key fingerprint (git's %GP), which is the certificate's too.
func (s *Status) ValidSig(fpr string, t time.Time, pkAlgo, hashAlgo int) {
	s.emit("VALIDSIG %s %s %d 0 0 0 %d %d 00 %s", fpr, t.UTC().Format("2006-01-02"), t.Unix(), pkAlgo, hashAlgo, fpr)
}

// BadSig reports a signature that is wrong, or by someone not trusted.
func (s *Status) BadSig(fpr, uid string) { s.emit("BADSIG %s %s", fpr, clean(uid)) }

// clean keeps a user id on its line and harmless where git prints it
// (%GS, "Good signature from"): control characters, which could start a
// forged status line or drive the terminal, are escaped.
func clean(uid string) string { return printable.String(uid) }

// ErrSig reports a signature that could not be checked (rc 4: unknown
// algorithm or malformed; rc 9: missing certificate or trust material).
func (s *Status) ErrSig(keyID string, t time.Time, rc int) {
	s.emit("ERRSIG %s %d %d 00 %d %d", keyID, PubKeyECDSA, HashSHA256, t.Unix(), rc)
}

// Trust levels for Trust.
const (
	TrustUndefined = "TRUST_UNDEFINED"
	TrustNever     = "TRUST_NEVER"
	TrustFully     = "TRUST_FULLY"
)

// Trust reports how much the signer is trusted, with the trust model
// gitsign uses ("0 shell", as gpgsm writes it).
func (s *Status) Trust(level string) { s.emit("%s 0 shell", level) }
