// Package schemacheck validates gitsign's JSON output against the JSON
// Schemas in docs/schema (draft 2020-12), the machine-readable half of
// docs/json.md. It is for tests only: the commands never validate what
// they print.
package schemacheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Dir is docs/schema in the checkout the test runs in: found from this
// source file's path, or, when the binary does not record it (-trimpath),
// by walking up from the working directory to the module root.
func Dir() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir := filepath.Join(filepath.Dir(file), "..", "..", "docs", "schema")
		if _, err := os.Stat(dir); err == nil {
			return dir, nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "docs", "schema"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("schemacheck: no go.mod above the working directory")
		}
		dir = parent
	}
}

var (
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

// Schema compiles docs/schema/NAME.json, asserting formats (date-time).
func Schema(name string) (*jsonschema.Schema, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := compiled[name]; ok {
		return s, nil
	}
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	s, err := c.Compile(filepath.Join(dir, name+".json"))
	if err != nil {
		return nil, err
	}
	compiled[name] = s
	return s, nil
}

// Validate reports whether doc, one JSON document, is valid under
// docs/schema/NAME.json.
func Validate(name string, doc []byte) error {
	s, err := Schema(name)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(v)
}

// Check fails t when doc is not valid under docs/schema/NAME.json.
func Check(t testing.TB, name string, doc []byte) {
	t.Helper()
	if err := Validate(name, doc); err != nil {
		t.Errorf("output does not match docs/schema/%s.json: %v\n%s", name, err, doc)
	}
}
