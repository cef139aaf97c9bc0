// Package attest reads and writes attestations on git objects in the
// reference implementation's layout: under refs/attestations/commits (or
// refs/attestations/trees), a commit whose tree holds one folder per
// attested object, named by its id, with the user's file NAME and NAME.sig
// beside it. NAME.sig is a DSSE envelope of an in-toto statement whose
// subject is the object (digest gitCommit or gitTree).
//
// gitsign's NAME.sig is the reference's envelope with two more fields, a
// Sigstore bundle's mediaType and verificationMaterial (the certificate,
// the log entry with its proof, a timestamp), so that it verifies with no
// network; a reader of the reference's envelopes reads it unchanged, and
// Bundle turns it into a Sigstore bundle for other verifiers. Envelopes
// the reference wrote carry no certificate: they can be read, not verified.
package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// StatementType is the in-toto statement type gitsign writes and reads.
const StatementType = "https://in-toto.io/Statement/v1"

// Digest names of the subject of a statement about a git object.
const (
	DigestCommit = "gitCommit"
	DigestTree   = "gitTree"
)

// MaxPredicateSize bounds a predicate file (and a statement's payload).
const MaxPredicateSize = 4 << 20

// maxDepth bounds how deeply a predicate's JSON may nest.
const maxDepth = 64

// Statement is an in-toto v1 statement about one git object.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType,omitempty"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Subject is what a statement is about.
type Subject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// NewStatement returns the payload of a statement about the object id,
// whose digest name is DigestCommit or DigestTree, with predicate (a JSON
// object, kept as written, whitespace aside) of type predicateType. An
// empty predicateType is left out, as the reference leaves it out.
func NewStatement(digestName, id, predicateType string, predicate []byte) ([]byte, error) {
	if err := checkPredicate(predicate); err != nil {
		return nil, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, predicate); err != nil {
		return nil, fmt.Errorf("predicate: %w", err)
	}
	return json.Marshal(Statement{
		Type:          StatementType,
		Subject:       []Subject{{Digest: map[string]string{digestName: id}}},
		PredicateType: predicateType,
		Predicate:     compact.Bytes(),
	})
}

// checkPredicate checks that b is one JSON object, no larger or deeper
// than allowed.
func checkPredicate(b []byte) error {
	if len(b) > MaxPredicateSize {
		return fmt.Errorf("predicate is %d bytes, more than the %d allowed", len(b), MaxPredicateSize)
	}
	if err := checkJSON(b); err != nil {
		return fmt.Errorf("predicate: %w", err)
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return errors.New("predicate is not a JSON object")
	}
	if dec.More() {
		return errors.New("predicate holds more than one JSON value")
	}
	return nil
}

// checkDepth refuses JSON nested deeper than maxDepth, before it is
// decoded.
func checkDepth(b []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > maxDepth {
				return fmt.Errorf("JSON nests deeper than %d levels", maxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// ParseStatement reads a statement payload.
func ParseStatement(payload []byte) (*Statement, error) {
	if len(payload) > MaxPredicateSize+64<<10 {
		return nil, fmt.Errorf("statement is %d bytes, more than allowed", len(payload))
	}
	if err := checkJSON(payload); err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	var s Statement
	if err := json.Unmarshal(payload, &s); err != nil {
		return nil, fmt.Errorf("statement is not in-toto JSON: %w", err)
	}
	if s.Type != StatementType {
		return nil, fmt.Errorf("statement type is %s, want %s", printable.Quote(s.Type), StatementType)
	}
	return &s, nil
}

// About checks that s is about exactly one object, id, named by its digest
// digestName, and nothing else.
func (s *Statement) About(digestName, id string) error {
	if len(s.Subject) != 1 {
		return fmt.Errorf("statement has %d subjects, want 1 (the git object)", len(s.Subject))
	}
	d := s.Subject[0].Digest
	if len(d) != 1 || d[digestName] != id {
		return fmt.Errorf("statement is about %s, not %s %s", describeDigest(d), digestName, id)
	}
	return nil
}

func describeDigest(d map[string]string) string {
	if len(d) == 0 {
		return "nothing"
	}
	var buf bytes.Buffer
	for k, v := range d {
		if buf.Len() > 0 {
			buf.WriteString(", ")
		}
		buf.WriteString(printable.String(k) + " " + printable.String(v))
	}
	return buf.String()
}

// SamePredicate reports whether file, the copy of the predicate stored
// beside the signature, says what the signed statement s says: the same
// JSON value (numbers compared as the reference stores them, as doubles).
func (s *Statement) SamePredicate(file []byte) bool {
	if checkPredicate(file) != nil {
		return false
	}
	var a, b any
	if json.Unmarshal(file, &a) != nil || json.Unmarshal(s.Predicate, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}
