package docgen

import (
	"fmt"
	"strings"
	"time"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
)

// AllowedSignersName is the file name of the allowed-signers file format's
// man page.
const AllowedSignersName = "gitsign-allowed-signers.5"

// allowedSignersExample is the EXAMPLES section's file: the tests parse it.
var allowedSignersExample = []string{
	"# people, each from their own issuer",
	"alice@example.com https://accounts.google.com",
	"bob@example.org https://github.com/login/oauth valid-after=20250601",
	"# everyone at example.net, from the company's issuer, until the end of 2026",
	"*@example.net https://sso.example.net valid-before=20270101",
	"# the release workflow: tags only, from runs for tags of this repository",
	"https://github.com/acme/app/.github/workflows/release.yml@refs/tags/* https://token.actions.githubusercontent.com objects=tag,source-repository-uri=https://github.com/acme/app",
}

// allowedSignersPage is gitsign-allowed-signers(5): the file format, from
// package allowedsigners' bounds and options, so that the page states
// the limits the code enforces.
func allowedSignersPage(date time.Time, source string) string {
	r := &roff{}
	r.header("gitsign-allowed-signers", "5", date, source)
	r.section("NAME")
	r.b.WriteString(`gitsign\-allowed\-signers \- who may sign: the allowed\-signers file gitsign verifies against` + "\n")

	r.section("SYNOPSIS")
	r.paraRaw(bold(".gitsigners"))
	r.paraRaw(bold("git config gitsign.allowedSignersFile") + " " + italic("PATH") + " | " + italic("REV:PATH"))
	r.paraRaw(bold("gitsign verify --allowed-signers") + " " + italic("PATH") + " | " + italic("REV:PATH"))

	r.section("DESCRIPTION")
	r.para("An allowed-signers file lists who may sign, one identity from one issuer per line. A signature is accepted when its certificate's identity and issuer match the same line and that line's options hold. git's own verification (git verify-commit, git log --show-signature), gitsign verify, gitsign verify-tag and gitsign pre-receive all read it; commit it with the code, so that changes to who may sign are reviewed and signed like any other.")

	r.section("FORMAT")
	r.para(fmt.Sprintf("The file is UTF-8 text of at most %s and %s lines. Lines end with a line feed; a carriage return before it is dropped, and the last line needs none. A byte order mark at the start is ignored.",
		bytesText(allowedsigners.MaxSize), thousands(allowedsigners.MaxLines)))
	r.para("Blank lines, and lines whose first non-blank character is #, are comments; there are no comments after a rule. No line may hold a control character other than tab, nor an invisible formatting character (bidirectional controls, zero-width characters, line and paragraph separators), so that the file reads as it means.")
	r.para("A rule is two or three fields separated by spaces or tabs:")
	r.example("IDENTITY ISSUER [OPTIONS]")
	r.para(`IDENTITY or ISSUER may be written in double quotes, to hold spaces or tabs or to start with # or ". Inside the quotes \" is a double quote and \\ a backslash; no other escape exists, and the closing quote must end the field. Quotes are undone before the pattern is read, so a literal * in quotes is "\\*". Unquoted, a field may not hold a double quote.`)

	r.section("PATTERNS")
	r.para("IDENTITY is the certificate's identity (its subject alternative name: an email address, or a CI workflow's URI) and ISSUER the OIDC issuer URL. Each is a pattern over the whole value:")
	r.item(bold("*"), "any run of characters, none included;")
	r.item(bold("?"), "exactly one character;")
	r.item(bold(`\`), `makes the next *, ? or \ literal (and may precede nothing else).`)
	r.para("Every other character stands for itself. There are no regular expressions, so nothing in a pattern can reach outside it: *@example.com matches alice@example.com but not alice@example.com.evil. Prefer exact values: * also matches / and @. Neither field may be empty.")
	r.para("An IDENTITY or ISSUER that is not plain ASCII (a Cyrillic а looks like a Latin a, but is another identity) is used, but gitsign verify warns once, naming the first such line, and errors show such characters escaped (\\u0430).")

	r.section("OPTIONS")
	r.para("OPTIONS is a comma-separated list of name=value pairs, each name at most once. A value may be written in double quotes, with the same escapes, to hold commas or spaces; no value may be empty. A line with options accepts only:")
	r.item(bold("valid-after=")+italic("YYYYMMDD[HHMM[SS]]"),
		fmt.Sprintf("signatures the transparency log or a timestamp authority proves at or after this UTC time (a date alone means its midnight). The year is from %d through %d.",
			allowedsigners.EarliestTime.Year(), allowedsigners.LatestTime.Year()-1))
	r.item(bold("valid-before=")+italic("YYYYMMDD[HHMM[SS]]"),
		"the same, strictly before this UTC time. With both, valid-after must be before valid-before.")
	r.item(bold("objects=commit")+", "+bold("objects=tag")+", "+bold(`objects="commit,tag"`),
		"these kinds of git object (default: any).")
	var claims []string
	for _, c := range allowedsigners.ClaimOptions {
		claims = append(claims, c.Name)
	}
	r.item(italic("claim")+"="+italic("value"),
		"certificates that carry this claim with exactly this value. The claims are the CI facts Fulcio writes into certificates, named after its certificate extensions: "+strings.Join(claims, ", ")+".")

	r.section("LIMITS")
	r.para(fmt.Sprintf("Each IDENTITY or ISSUER is at most %s bytes, quotes undone, with at most %d wildcards (* and ? together). A pattern with wildcards costs the verifier far more than an exact value, so a file may hold at most %d such patterns, together at most %s; exact values are bounded only by the file's size. Real identities are far shorter (an email address has at most 254 bytes) and have a wildcard or two.",
		thousands(allowedsigners.MaxPatternBytes), allowedsigners.MaxWildcards, allowedsigners.MaxWildcardPatterns, bytesText(allowedsigners.MaxWildcardBytes)))

	r.section("ERRORS")
	r.para(`Anything else is an error that names the file and line, such as .gitsigners:3: unknown option "colour", and is never skipped: a missing issuer, a fourth field, an unknown or repeated option, an empty value, a date that does not exist or is out of range, an empty validity window, a pattern over its bounds, a file with no rule at all. gitsign verify then exits with status 2, and git's verification reports ERRSIG.`)

	r.section("WHERE IT IS READ")
	r.para("gitsign verify and gitsign verify-tag take --allowed-signers; otherwise, like git's verification, they read git config gitsign.allowedSignersFile. It has one value (the last wins; empty means none) and cannot be combined with the gitsign.certificateIdentity* and gitsign.certificateOIDCIssuer* keys, nor --allowed-signers with the --certificate-* flags.")
	r.para("A value is REV:PATH when it holds a colon and does not start with :, /, ./ or ../: the file PATH (from the top of the repository) in the git revision REV, such as refs/remotes/origin/main:.gitsigners, read with git cat-file. Anything else is a path, relative to the top of the work tree (write ./a:b for a file whose name has a colon). gitsign never falls back from REV:PATH to a file of that name.")
	r.para("gitsign pre-receive reads HEAD:.gitsigners, the file on the branch the server's HEAD names, unless gitsign.allowedSignersFile names another (a path there is relative to the repository directory). A push is judged by the file as it was before the push.")
	r.para("In CI, name the file in a revision the change cannot alter, by object id (BASE:.gitsigners): a branch that edits its own .gitsigners must not be judged by it.")

	r.section("EXAMPLES")
	r.example(allowedSignersExample...)
	r.para("A workflow's identity is its file's URI at the ref it ran for, so @refs/tags/* accepts runs for any tag and none for a branch, and source-repository-uri pins the repository the run was for. gitsign show prints the rule line for a signature.")

	r.section("SEE ALSO")
	r.b.WriteString(`\fBgitsign(1)\fP, \fBgitsign\-verify(1)\fP, \fBgitsign\-verify\-tag(1)\fP, \fBgitsign\-pre\-receive(1)\fP, \fBgitsign\-show(1)\fP` + "\n")
	return r.String()
}

// bytesText writes a size in KiB or MiB, e.g. "1 MiB".
func bytesText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return thousands(n) + " bytes"
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
