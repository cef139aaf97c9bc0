package gitsign

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// Settings that New refuses because they cannot work together.
var (
	// ErrNeedsTimestampAuthority: Rekor v2 without a timestamp authority.
	ErrNeedsTimestampAuthority = errors.New("rekor v2 gives no signed time, so signing with it needs a timestamp authority")
	// ErrOnlineNeedsRekorV1: Online mode with Rekor v2.
	ErrOnlineNeedsRekorV1 = errors.New("online mode needs a Rekor v1 log (Rekor v2 cannot be searched)")
)

// Errors of Check (and so of Sign) for a payload Online mode cannot sign.
var (
	// ErrOnlineNotDetached: Online mode asked for an attached signature.
	ErrOnlineNotDetached = errors.New("online mode signs git objects only, as detached signatures")
	// ErrOnlineNotGitObject: Online mode asked to sign a payload that is
	// not a commit or tag. Check's error wraps it and the reason.
	ErrOnlineNotGitObject = errors.New("online mode")
)

// ErrNoCredential is the error of Sign without a usable credential: none,
// or one without a key or certificate.
var ErrNoCredential = errors.New("no credential to sign with")

// OptionError is an Options field with a value New does not accept.
type OptionError struct {
	Field  string // the Options field
	Value  any
	Reason string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("gitsign: Options.%s %v: %s", e.Field, e.Value, e.Reason)
}

// Stage is the part of signing that talks to one service.
type Stage int

const (
	// StageToken is getting an identity token from the TokenSource.
	StageToken Stage = iota + 1
	// StageCertificate is getting a certificate from Fulcio, and
	// checking it is for the token's identity and the new key.
	StageCertificate
	// StageTimestamp is getting a timestamp from the timestamp authority.
	StageTimestamp
	// StageLog is recording the signature, or in Online mode the
	// object's id, in the transparency log.
	StageLog
)

// String names the stage.
func (s Stage) String() string {
	switch s {
	case StageToken:
		return "identity token"
	case StageCertificate:
		return "certificate"
	case StageTimestamp:
		return "timestamp"
	case StageLog:
		return "transparency log"
	}
	return fmt.Sprintf("Stage(%d)", int(s))
}

// StageError is a stage of signing that failed. Its message is its
// cause's: the TokenSource's own error, or a service client's, which
// names the service and, for an HTTP answer, its status.
type StageError struct {
	Stage Stage
	Err   error
}

func (e *StageError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *StageError) Unwrap() error { return e.Err }

// CommitterMismatchError is a certificate that does not name the
// Committer of Options.
type CommitterMismatchError struct {
	Emails, URIs []string // the certificate's identities
	Name, Email  string   // the committer
}

func (e *CommitterMismatchError) Error() string {
	return fmt.Sprintf("the certificate names %s, not the committer %s <%s>", strings.Join(slices.Concat(e.Emails, e.URIs), ", "), printable.Quote(e.Name), e.Email)
}
