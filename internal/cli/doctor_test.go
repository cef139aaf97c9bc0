package cli

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestDoctorJSON: --json prints one object with exactly the documented
// fields, and a check for each thing doctor looks at.
func TestDoctorJSON(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var out, errs bytes.Buffer
	code := run([]string{"doctor", "--offline", "--json"}, streams{in: new(bytes.Buffer), out: &out, err: &errs})
	var doc struct {
		Schema *int  `json:"schema"`
		OK     *bool `json:"ok"`
		Checks []struct {
			Name    string   `json:"name"`
			Status  string   `json:"status"`
			Summary string   `json:"summary"`
			Hints   []string `json:"hints"`
		} `json:"checks"`
	}
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out.String())
	}
	if dec.More() {
		t.Error("more than one JSON document")
	}
	if doc.Schema == nil || *doc.Schema != 1 || doc.OK == nil {
		t.Fatalf("schema and ok missing: %+v", doc)
	}
	if want := map[bool]int{true: 0, false: 1}[*doc.OK]; code != want {
		t.Errorf("exit %d with ok=%v", code, *doc.OK)
	}
	var names []string
	for _, c := range doc.Checks {
		names = append(names, c.Name)
		switch c.Status {
		case "ok", "warn", "fail", "skip":
		default:
			t.Errorf("check %s: status %q", c.Name, c.Status)
		}
		if c.Summary == "" {
			t.Errorf("check %s has no summary", c.Name)
		}
	}
	want := []string{"config", "git-format", "git-program", "git-autosign", "agent", "trusted-root", "issuer", "fulcio", "rekor", "tsa", "clock"}
	if len(names) != len(want) {
		t.Fatalf("checks %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("checks %v, want %v", names, want)
			break
		}
	}
}
