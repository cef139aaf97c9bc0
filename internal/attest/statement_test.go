package attest

import (
	"strings"
	"testing"
)

const commitID = "7e1f4e0ca1b54786a976ab3e37a90fd1725e31bd"

// TestNewStatement: the statement is the reference's shape, its
// predicate the file's JSON without its layout, and an empty predicate
// type is left out as protojson leaves it out.
func TestNewStatement(t *testing.T) {
	got, err := NewStatement(DigestCommit, commitID, "https://slsa.dev/provenance/v1", []byte("{\n  \"b\": [1, 2.5e3],\n  \"a\": \"x\"\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"gitCommit":"` + commitID + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"b":[1,2.5e3],"a":"x"}}`
	if string(got) != want {
		t.Errorf("statement\n%s\nwant\n%s", got, want)
	}
	got, err = NewStatement(DigestTree, commitID, "", []byte(`{}`))
	if err != nil || strings.Contains(string(got), "predicateType") || !strings.Contains(string(got), `"gitTree"`) {
		t.Errorf("statement without a type: %s (%v)", got, err)
	}
}

func TestNewStatementRefuses(t *testing.T) {
	for name, predicate := range map[string]string{
		"array":         `[1]`,
		"string":        `"x"`,
		"null":          `null`,
		"two values":    `{} {}`,
		"not JSON":      `{"a":}`,
		"empty":         ``,
		"too deep":      strings.Repeat(`{"a":`, maxDepth+1) + `1` + strings.Repeat(`}`, maxDepth+1),
		"too deep [":    `{"a":` + strings.Repeat(`[`, maxDepth+1) + strings.Repeat(`]`, maxDepth+1) + `}`,
		"trailing junk": `{"a":1}x`,
		// What parsers disagree on, or protobuf's JSON readers (the
		// reference's, in-toto tooling) refuse.
		"a repeated key":        `{"a":1,"a":2}`,
		"a repeated nested key": `{"a":[{"b":1,"b":1}]}`,
		"invalid UTF-8":         "{\"a\":\"\xff\"}",
		"a lone high surrogate": `{"a":"\ud800"}`,
		"a lone low surrogate":  `{"a":"\udc00x"}`,
		"a high then no low":    `{"a":"\ud800\u0041"}`,
		"a number too large":    `{"a":1e400}`,
	} {
		if _, err := NewStatement(DigestCommit, commitID, "", []byte(predicate)); err == nil {
			t.Errorf("%s: accepted %q", name, predicate)
		}
	}
	if _, err := NewStatement(DigestCommit, commitID, "", []byte(`{"a":"\ud83d\ude00 \\ud800 \"\\\"","b":-1.5e308}`)); err != nil {
		t.Errorf("a surrogate pair, an escaped backslash before ud800, a large double: %v", err)
	}
	big := `{"a":"` + strings.Repeat("x", MaxPredicateSize) + `"}`
	if _, err := NewStatement(DigestCommit, commitID, "", []byte(big)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("an oversized predicate: %v", err)
	}
}

// TestAbout: a statement is about one object, named by the one digest.
func TestAbout(t *testing.T) {
	other := strings.Repeat("a", 40)
	for _, c := range []struct {
		payload string
		ok      bool
	}{
		{`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"gitCommit":"` + commitID + `"}}],"predicate":{}}`, true},
		{`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"gitTree":"` + commitID + `"}}],"predicate":{}}`, false},
		{`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"gitCommit":"` + other + `"}}],"predicate":{}}`, false},
		{`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"gitCommit":"` + commitID + `","sha1":"` + commitID + `"}}],"predicate":{}}`, false},
		{`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"gitCommit":"` + commitID + `"}},{"digest":{"gitCommit":"` + other + `"}}],"predicate":{}}`, false},
		{`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicate":{}}`, false},
	} {
		st, err := ParseStatement([]byte(c.payload))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.About(DigestCommit, commitID); (err == nil) != c.ok {
			t.Errorf("About(%s) = %v, want ok %v", c.payload, err, c.ok)
		}
	}
	dup := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"gitCommit":"` + other + `"}}],"subject":[{"digest":{"gitCommit":"` + commitID + `"}}],"predicate":{}}`
	if _, err := ParseStatement([]byte(dup)); err == nil || !strings.Contains(err.Error(), "repeats the key") {
		t.Errorf("a statement with two subject members: %v", err)
	}
	if _, err := ParseStatement([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[]}`)); err == nil {
		t.Error("a statement of another type was read")
	}
}

// TestSamePredicate: the file beside the signature must be the signed
// JSON value; layout and key order do not matter, values do.
func TestSamePredicate(t *testing.T) {
	payload, _ := NewStatement(DigestCommit, commitID, "", []byte(`{"a":[1,2],"b":{"c":true}}`))
	st, err := ParseStatement(payload)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]bool{
		`{"a":[1,2],"b":{"c":true}}`:                       true,
		"{\n \"b\": {\"c\": true},\n \"a\": [1.0, 2]\n}\n": true,
		`{"a":[1,2],"b":{"c":false}}`:                      false,
		`{"a":[1,2]}`:                                      false,
		`{"a":[1,2],"b":{"c":true},"d":null}`:              false,
		`[1]`:                                              false,
		``:                                                 false,
	} {
		if st.SamePredicate([]byte(file)) != want {
			t.Errorf("SamePredicate(%s) = %v", file, !want)
		}
	}
}
