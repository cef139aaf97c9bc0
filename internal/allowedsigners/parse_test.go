package allowedsigners

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/gitsign-dev/gitsign/verify"
)

const google = "https://accounts.google.com"

// TestParseErrors: every malformed line is an error naming the file and
// the line, with its own message; nothing is skipped.
func TestParseErrors(t *testing.T) {
	ok := "alice@example.com " + google + "\n"
	for _, tc := range []struct{ in, want string }{
		{"alice@example.com\n", "f:1: missing the issuer: a rule is IDENTITY ISSUER [OPTIONS]"},
		{ok + "  alice@example.com   \n", "f:2: missing the issuer: a rule is IDENTITY ISSUER [OPTIONS]"},
		{"a b objects=tag extra\n", "f:1: more than three fields: a rule is IDENTITY ISSUER [OPTIONS]; quote a field that holds spaces"},
		{"a b objects=tag # trailing\n", "f:1: comments must be on lines of their own"},
		{"a b # trailing\n", "f:1: comments must be on lines of their own"},
		{"\"a b\n", "f:1: the identity has no closing quote"},
		{`a "b` + "\n", "f:1: the issuer has no closing quote"},
		{`"a\*" b`, `f:1: invalid escape \* in the identity: inside quotes only \" and \\ are escapes`},
		{`"a\` + "\n", `f:1: invalid escape \ in the identity: inside quotes only \" and \\ are escapes`},
		{`"a"b c`, "f:1: text right after the quoted identity: separate fields with spaces"},
		{`a "b"c`, "f:1: text right after the quoted issuer: separate fields with spaces"},
		{`a"b c`, `f:1: a double quote inside the unquoted identity: quote the whole field and write \" for the quote`},
		{`a b"c`, `f:1: a double quote inside the unquoted issuer: quote the whole field and write \" for the quote`},
		{`"" b`, "f:1: empty identity"},
		{`a ""`, "f:1: empty issuer"},
		{`a\ b`, `f:1: identity 'a\' ends with a backslash, which escapes nothing (write \\ for a backslash)`},
		{`a\d b`, `f:1: identity 'a\d': \d is not an escape (a backslash only escapes *, ? and \)`},
		{`a b\é`, `f:1: issuer 'b\\u00e9': \ before U+00E9 is not an escape (a backslash only escapes *, ? and \)`},
		{`"a\é" b`, `f:1: invalid escape \ before U+00E9 in the identity: inside quotes only \" and \\ are escapes`},
		{`"a\ b" c`, `f:1: invalid escape \ before U+0020 in the identity: inside quotes only \" and \\ are escapes`},
		{"a b colour=red", `f:1: unknown option "colour"`},
		{"a b objects=tag,objects=commit", `f:1: option "objects" is given twice`},
		{"a b objects=", `f:1: option "objects" has an empty value`},
		{`a b objects=""`, `f:1: option "objects" has an empty value`},
		{"a b build-trigger=", `f:1: option "build-trigger" has an empty value`},
		{"a b objects", `f:1: option "objects" has no value: options are NAME=VALUE`},
		{"a b objects=commit,tag", `f:1: option "tag" has no value: to name several object types, quote them: objects="commit,tag"`},
		{"a b objects=tag,", "f:1: an empty option: a comma with nothing after it, or two commas"},
		{"a b objects=tag,,build-trigger=push", "f:1: an empty option: a comma with nothing after it, or two commas"},
		{"a b ,objects=tag", "f:1: an empty option: a comma with nothing after it, or two commas"},
		{"a b =tag", "f:1: an option without a name: options are NAME=VALUE"},
		{"a b objects=blob", `f:1: objects 'blob': want commit, tag or "commit,tag"`},
		{`a b objects="commit,blob"`, `f:1: objects 'commit,blob': want commit, tag or "commit,tag"`},
		{`a b objects="commit,"`, `f:1: objects 'commit,': want commit, tag or "commit,tag"`},
		{`a b objects="tag,tag"`, `f:1: objects 'tag,tag' names tag twice`},
		{`a b objects="tag`, `f:1: the value of option "objects" has no closing quote`},
		{`a b objects="tag"x`, `f:1: text right after the quoted value of option "objects": separate options with commas`},
		{`a b build-trigger=pu"sh`, `f:1: a double quote inside the unquoted value of option "build-trigger": quote the whole value`},
		{"a b valid-after=2024", `f:1: valid-after '2024' is not a time: want a real UTC time as YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS`},
		{"a b valid-after=20240230", `f:1: valid-after '20240230' is not a time: want a real UTC time as YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS`},
		{"a b valid-before=202401011260", `f:1: valid-before '202401011260' is not a time: want a real UTC time as YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS`},
		{"a b valid-before=2024-01-01", `f:1: valid-before '2024-01-01' is not a time: want a real UTC time as YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS`},
		{"a b valid-before=+0240101", `f:1: valid-before '+0240101' is not a time: want a real UTC time as YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS`},
		{"a b valid-after=20250101,valid-before=20250101", "f:1: empty validity window: valid-after must be before valid-before"},
		{"a b valid-after=20250102,valid-before=20250101", "f:1: empty validity window: valid-after must be before valid-before"},
		{"a b\x1b[2J", "f:1: character U+001B is not allowed: control and invisible formatting characters could hide what the line says"},
		{"a\u202eb c", "f:1: character U+202E is not allowed: control and invisible formatting characters could hide what the line says"},
		{"a b\rc", "f:1: character U+000D is not allowed: control and invisible formatting characters could hide what the line says"},
		{ok + "# fine\n\nx\xffy b\n", "f:4: not UTF-8 text"},
		{"", "f: no signers: the file has no rule lines, so it would accept nobody"},
		{"# only a comment\n\n   \t\n", "f: no signers: the file has no rule lines, so it would accept nobody"},
		{strings.Repeat("\n", MaxLines) + "a b", "f: more than 10000 lines"},
		{strings.Repeat("#", MaxSize+1), "f: larger than 1048576 bytes"},
	} {
		file, err := Parse([]byte(tc.in), "f")
		var pe *ParseError
		if !errors.As(err, &pe) || err.Error() != tc.want || file != nil {
			t.Errorf("Parse(%q) = %v, %v\n want error %s", tc.in, file, err, tc.want)
		}
	}
}

// TestParseBounds: the bounds themselves are accepted.
func TestParseBounds(t *testing.T) {
	lines := strings.Repeat("# comment\n", MaxLines-1) + "a b" // no final newline: still MaxLines
	if _, err := Parse([]byte(lines), "f"); err != nil {
		t.Errorf("%d lines: %v", MaxLines, err)
	}
	big := "a b\n" + strings.Repeat("#", MaxSize-5) + "\n"
	if len(big) != MaxSize {
		t.Fatal(len(big))
	}
	if _, err := Parse([]byte(big), "f"); err != nil {
		t.Errorf("%d bytes: %v", MaxSize, err)
	}
}

// TestParseRules: what each line turns into.
func TestParseRules(t *testing.T) {
	file := "\uFEFF# people\r\n" +
		"alice@example.com https://accounts.google.com\r\n" +
		"\n" +
		"   \t# indented comment\n" +
		"\t*@example.org\t\thttps://github.com/login/oauth   valid-after=20250101,valid-before=202601021530\n" +
		`"name with spaces" "#issuer" objects="commit,tag",build-trigger="a, b"` + "\n" +
		`lit\*\?\\eral https://i valid-after="20250101123456",objects=tag` + "\n" +
		`"q\"uote\\\\*" h?tps://i` // no final newline
	f, err := Parse([]byte(file), ".gitsigners")
	if err != nil {
		t.Fatal(err)
	}
	rules := f.Rules
	if f.Name != ".gitsigners" || f.NonASCII != nil || f.Warning() != "" {
		t.Errorf("file %q: NonASCII %v, warning %q", f.Name, f.NonASCII, f.Warning())
	}
	want := []verify.Rule{
		{Identity: "alice@example.com", Issuer: google, Origin: ".gitsigners:2"},
		{IdentityRegexp: `\A(?s:.*@example\.org)\z`, Issuer: "https://github.com/login/oauth", Origin: ".gitsigners:5",
			ValidAfter: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ValidBefore: time.Date(2026, 1, 2, 15, 30, 0, 0, time.UTC)},
		{Identity: "name with spaces", Issuer: "#issuer", Objects: []string{"commit", "tag"}, Claims: certificate.Extensions{BuildTrigger: "a, b"}, Origin: ".gitsigners:6"},
		{Identity: `lit*?\eral`, Issuer: "https://i", ValidAfter: time.Date(2025, 1, 1, 12, 34, 56, 0, time.UTC), Objects: []string{"tag"}, Origin: ".gitsigners:7"},
		{IdentityRegexp: `\A(?s:q"uote\\.*)\z`, IssuerRegexp: `\A(?s:h.tps://i)\z`, Origin: ".gitsigners:8"},
	}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("got\n%#v\nwant\n%#v", rules, want)
	}
	if err := (verify.Policy{Rules: rules}).Complete(); err != nil {
		t.Error(err)
	}
}

// TestPatterns: wildcards match whole values; everything else is literal.
func TestPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern   string
		match, no []string
	}{
		{`*@example.com`, []string{"alice@example.com", "@example.com", "a.b+c@example.com", "x@y@example.com"},
			[]string{"alice@example.com.evil", "alice@exampleXcom", "alice@example.co", "Alice@Example.com.", "\nalice@example.com\n"}},
		{`?@example.com`, []string{"a@example.com", "é@example.com", "\n@example.com"}, []string{"@example.com", "ab@example.com"}},
		{`https://github.com/acme/app/.github/workflows/release.yml@refs/tags/*`,
			[]string{"https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3"},
			[]string{"https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main", "https://github.com/acme/app/.github/workflows/release.ymlXrefs/tags/v1"}},
		{`https://*.example.com`, []string{"https://a.example.com", "https://a.b.example.com"}, []string{"https://example.com", "https://a.example.com/"}},
		{`a.b|c(d)*`, []string{"a.b|c(d)", "a.b|c(d)xyz"}, []string{"aXb|c(d)", "a.b", "c(d)"}},
		{`x[a-z]+$^*`, []string{"x[a-z]+$^", "x[a-z]+$^yy"}, []string{"xb", "xaa$^"}},
	} {
		_, re, err := compilePattern("identity", tc.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		// Through verify, as the verifier compiles it.
		rule := verify.Rule{IdentityRegexp: re, Issuer: google}
		if err := (verify.Policy{Rules: []verify.Rule{rule}}).Complete(); err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		compiled := regexp.MustCompile(re)
		for _, m := range tc.match {
			if !compiled.MatchString(m) {
				t.Errorf("%s does not match %q", tc.pattern, m)
			}
		}
		for _, n := range tc.no {
			if compiled.MatchString(n) {
				t.Errorf("%s matches %q", tc.pattern, n)
			}
		}
	}
	for _, exact := range []string{`a\*b`, `a\?b`, `a\\b`, `plain@example.com`} {
		id, re, err := compilePattern("identity", exact)
		if err != nil || re != "" || id != strings.NewReplacer(`\*`, "*", `\?`, "?", `\\`, `\`).Replace(exact) {
			t.Errorf("%s: %q %q %v", exact, id, re, err)
		}
	}
}

// TestClaimOptions: each claim option sets its own certificate extension.
func TestClaimOptions(t *testing.T) {
	if len(ClaimOptions) != 19 {
		t.Errorf("%d claim options, want 19", len(ClaimOptions))
	}
	fields := map[string]bool{}
	for i, c := range ClaimOptions {
		name, field := c.Name, c.Field
		if i > 0 && c.OID[len(c.OID)-1] <= ClaimOptions[i-1].OID[len(c.OID)-1] {
			t.Errorf("%s is out of OID order", name)
		}
		// The OID is the one sigstore-go reads into the option's field
		// (1.2-1.6 hold raw strings, the newer ones DER UTF8Strings).
		value := []byte("v")
		if c.OID[len(c.OID)-1] >= 9 {
			value, _ = asn1.MarshalWithParams("v", "utf8")
		}
		got, err := certificate.ParseExtensions([]pkix.Extension{{Id: c.OID, Value: value}})
		if err != nil || *c.Field(&got) != "v" {
			t.Errorf("%s: extension %s does not set its field (%v)", name, c.OID, err)
		}
		f, err := Parse([]byte("a https://i "+name+`="v, `+name+`"`), "f")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rules := f.Rules
		var want certificate.Extensions
		*field(&want) = "v, " + name
		if rules[0].Claims != want {
			t.Errorf("%s set %+v", name, rules[0].Claims)
		}
		// The option is the extension's Go field name, spelled in kebab case.
		v := reflect.ValueOf(want)
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).String() != "" {
				f := v.Type().Field(i).Name
				fields[f] = true
				kebab := strings.ToLower(regexp.MustCompile(`([a-z])([A-Z])`).ReplaceAllString(f, "$1-$2"))
				if kebab != name {
					t.Errorf("option %s sets %s", name, f)
				}
			}
		}
	}
	if len(fields) != 19 || fields["Issuer"] {
		t.Errorf("claim options set %v", fields)
	}
}
