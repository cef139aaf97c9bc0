package config

import (
	"strings"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// redacted replaces the value of a key whose name contains TOKEN or SECRET.
const redacted = "<redacted>"

// Error reports a setting whose value cannot be used.
type Error struct {
	// Key is the git config key as documented (e.g. "gitsign.rekorVersion")
	// or the environment variable (e.g. "GITSIGN_REKOR_VERSION").
	Key string
	// Value is the rejected value, or "<redacted>" when Key names a token
	// or a secret.
	Value string
	// Reason says what a valid value looks like.
	Reason string

	// noValue marks a git config key given without "= value".
	noValue bool
}

// Error returns a one-line message such as
//
//	invalid value "3" for GITSIGN_REKOR_VERSION: must be 1 or 2
//
// The value is shown as <redacted>, unquoted, when Key names a token or a
// secret, even if Value was filled in by hand.
func (e *Error) Error() string {
	if e.noValue {
		return "missing value for " + e.Key + ": " + e.Reason
	}
	v := printable.Quote(e.Value)
	if sensitive(e.Key) {
		v = redacted
	}
	return "invalid value " + v + " for " + e.Key + ": " + e.Reason
}

// newError returns an *Error for value of key, redacting the value when
// the key names a token or a secret.
func newError(key, value, reason string) *Error {
	if sensitive(key) {
		value = redacted
	}
	return &Error{Key: key, Value: value, Reason: reason}
}

// missingValue reports a bare git config key (no "= value") for a
// setting that is not a boolean.
func missingValue(key string) *Error {
	return &Error{Key: key, Reason: "only boolean keys may be given without a value", noValue: true}
}

// sensitive reports whether values of key must never be shown: any key or
// variable whose name contains TOKEN or SECRET, in any case.
func sensitive(key string) bool {
	k := strings.ToUpper(key)
	return strings.Contains(k, "TOKEN") || strings.Contains(k, "SECRET")
}
