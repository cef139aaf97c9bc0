package cli

// The JSON documents gitsign prints with --json share one vocabulary,
// written down in docs/json.md and, as JSON Schemas, in docs/schema:
// every document is an object whose first member is "schema", and a fact
// has one name and one shape wherever it appears (signer, certificate,
// log, mode, time).

import (
	"time"

	"github.com/gitsign-dev/gitsign/internal/inspect"
)

// jsonSchema is the number in every JSON document's "schema" member.
// Fields are added to a document without changing it; renaming or
// removing one, or changing its meaning or type, takes a new number.
const jsonSchema = 1

// verifyResult is one element of gitsign verify's and verify-tag's
// "results": the facts of a good signature, or why the object failed.
type verifyResult struct {
	Object   string `json:"object"`
	Type     string `json:"type"`
	Verified bool   `json:"verified"`
	// Present when verified.
	Signer      *inspect.Signer      `json:"signer,omitempty"`
	Certificate *inspect.Certificate `json:"certificate,omitempty"`
	Time        *time.Time           `json:"time,omitempty"`
	Mode        string               `json:"mode,omitempty"`
	Log         *verifiedLog         `json:"log,omitempty"`
	Timestamped *bool                `json:"timestamped,omitempty"`
	Rule        string               `json:"rule,omitempty"`
	// Present when not verified.
	Error string `json:"error,omitempty"`
}

// verifiedLog is the transparency log entry a verification relied on.
type verifiedLog struct {
	Index int64 `json:"index"`
}

// result is r as a "results" element.
func (r objectReport) result() verifyResult {
	out := verifyResult{Object: r.Object, Type: r.Type, Verified: r.Verified}
	if !r.Verified {
		out.Error = r.Error
		return out
	}
	t, cert, stamped := r.Time.UTC(), r.Certificate, r.Timestamped
	out.Signer = &inspect.Signer{Identity: r.Identity, IdentityType: r.IdentityType, Issuer: r.Issuer}
	out.Certificate, out.Time, out.Timestamped = &cert, &t, &stamped
	out.Mode = inspect.Offline
	if r.Online {
		out.Mode = inspect.Online
	}
	out.Log = &verifiedLog{Index: r.LogIndex}
	out.Rule = r.Rule
	return out
}
