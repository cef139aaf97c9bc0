//go:build e2e

package e2e

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/github/smimesign/ietf-cms/protocol"

	"github.com/gitsign-dev/gitsign/internal/cms"
)

// Hostile signatures, end to end: each case takes a real commit signed by
// the reference against the public-good instance (testdata/realworld,
// verified offline with the built-in root), rebuilds it around a mutated
// signature and checks that git verify-commit (through gitsign as
// gpg.x509.program) and gitsign verify both refuse it, each with its own
// error.

const (
	hostileVector   = "200ca8647599a02ce268818bb428eeb686e8d99f"
	hostileIdentity = "billy@chainguard.dev"
	hostileIssuer   = "https://accounts.google.com"
	// hostileDERCap is the largest DER whose canonical armor still fits
	// cms.MaxSignatureSize.
	hostileDERCap = (cms.MaxSignatureSize - 128) / 4 * 3 * 64 / 65
)

var (
	hostileNL         = []byte("\n")
	hostilePolicyArgs = []string{"--certificate-identity", hostileIdentity, "--certificate-oidc-issuer", hostileIssuer}
	hostileEntryOID   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 3, 1}
)

// hostileCase is one mutated signature and how it must be refused.
type hostileCase struct {
	name   string
	sig    func(t *testing.T, orig []byte) []byte // the signature to put in the commit
	status byte                                   // %G?: 'B' (BADSIG) or 'E' (ERRSIG)
	git    string                                 // in gitsign's error under git
	cli    string                                 // in gitsign verify's FAILED line ("": git's)
}

// hostileRepo is an offline repository holding the real commit, with the
// built-in root and no policy.
func hostileRepo(t *testing.T) (*repo, []byte) {
	t.Helper()
	r := bareRepo(t)
	file := filepath.Join(realworldDir(), "commits", hostileVector+".commit")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if id := r.load("commit", file); id != hostileVector {
		t.Fatalf("loaded as %s", id)
	}
	if _, sig := hostileSplit(t, raw); !bytes.Equal(hostileWithSig(t, raw, sig), raw) {
		t.Fatal("rebuilding the unmodified commit changes it: fix hostileWithSig")
	}
	return r, raw
}

// hostileSplit reads a raw commit as git does: the gpgsig header's value
// (continuation lines lose their leading space) and everything else.
func hostileSplit(t *testing.T, raw []byte) (payload, sig []byte) {
	t.Helper()
	end := bytes.Index(raw, []byte("\n\n")) + 1
	if end <= 0 {
		t.Fatal("commit has no end of headers")
	}
	in := false
	for _, line := range bytes.SplitAfter(raw[:end], hostileNL) {
		switch {
		case bytes.HasPrefix(line, []byte("gpgsig ")):
			in = true
			sig = append(sig, line[len("gpgsig "):]...)
		case in && len(line) > 0 && line[0] == ' ':
			sig = append(sig, line[1:]...)
		default:
			in = false
			payload = append(payload, line...)
		}
	}
	if sig == nil {
		t.Fatal("commit has no gpgsig header")
	}
	return append(payload, raw[end:]...), sig
}

// hostileWithSig returns raw with the gpgsig header's value replaced by
// sig, in place, as git writes it.
func hostileWithSig(t *testing.T, raw, sig []byte) []byte {
	t.Helper()
	if !bytes.HasSuffix(sig, hostileNL) {
		t.Fatal("a signature as git stores it ends with a newline")
	}
	end := bytes.Index(raw, []byte("\n\n")) + 1
	var out []byte
	in := false
	for _, line := range bytes.SplitAfter(raw[:end], hostileNL) {
		switch {
		case bytes.HasPrefix(line, []byte("gpgsig ")):
			in = true
			out = append(out, "gpgsig "...)
			out = append(out, bytes.ReplaceAll(bytes.TrimSuffix(sig, hostileNL), hostileNL, []byte("\n "))...)
			out = append(out, '\n')
		case in && len(line) > 0 && line[0] == ' ':
		default:
			in = false
			out = append(out, line...)
		}
	}
	return append(out, raw[end:]...)
}

// hostileCommit stores raw rebuilt around sig and returns its id.
func hostileCommit(t *testing.T, r *repo, raw, sig []byte) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "commit")
	if err := os.WriteFile(file, hostileWithSig(t, raw, sig), 0o644); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(hostileMust(t, r, "hash-object", "-t", "commit", "-w", "--literally", file))
}

// hostileMust runs git, failing t (not the repository's test) on error.
func hostileMust(t *testing.T, r *repo, args ...string) string {
	t.Helper()
	out, errOut, err := r.run("git", args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// hostileG is git's %G? for commit id. The vectors' parents are not in
// the repository, so git must not walk to them.
func hostileG(t *testing.T, r *repo, id string) string {
	t.Helper()
	return strings.TrimSpace(hostileMust(t, r, "log", "-1", "--no-walk", "--format=%G?", id))
}

// hostileSignedData parses an armored signature for editing.
func hostileSignedData(t *testing.T, armored []byte) *protocol.SignedData {
	t.Helper()
	der, err := cms.Dearmor(armored)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := protocol.ParseContentInfo(der)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := ci.SignedDataContent()
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

// hostileArmor re-encodes an edited SignedData and armors it.
func hostileArmor(t *testing.T, sd *protocol.SignedData) []byte {
	t.Helper()
	der, err := sd.ContentInfoDER()
	if err != nil {
		t.Fatal(err)
	}
	return cms.Armor(der)
}

// hostileEdit is a case's sig function that edits the SignedData and its
// one SignerInfo.
func hostileEdit(edit func(t *testing.T, sd *protocol.SignedData, si *protocol.SignerInfo)) func(*testing.T, []byte) []byte {
	return func(t *testing.T, orig []byte) []byte {
		sd := hostileSignedData(t, orig)
		edit(t, sd, &sd.SignerInfos[0])
		return hostileArmor(t, sd)
	}
}

func hostileAttr(t *testing.T, typ asn1.ObjectIdentifier, val any) protocol.Attribute {
	t.Helper()
	a, err := protocol.NewAttribute(typ, val)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func hostileExit(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

var hostileStatusLine = map[byte]string{'B': "[GNUPG:] BADSIG ", 'E': "[GNUPG:] ERRSIG ", 'G': "[GNUPG:] GOODSIG "}

// hostileGit checks git's verdict on commit id: verify-commit fails with
// gitsign's error containing every text, --raw shows the status, and %G?
// is status. It returns verify-commit's wall time.
func hostileGit(t *testing.T, r *repo, id string, status byte, texts ...string) time.Duration {
	t.Helper()
	start := time.Now()
	_, human, err := r.run("git", "verify-commit", id)
	took, code := time.Since(start), hostileExit(err)
	if code <= 0 {
		t.Errorf("git verify-commit: exit %d (%v), want a failure\n%s", code, err, human)
	}
	for _, text := range texts {
		if !strings.Contains(human, text) {
			t.Errorf("git verify-commit's error lacks %q:\n%s", text, human)
		}
	}
	if strings.Contains(human, "good signature") {
		t.Errorf("git verify-commit reports a good signature:\n%s", human)
	}
	_, raw, err := r.run("git", "verify-commit", "--raw", id)
	if err == nil || !strings.Contains(raw, hostileStatusLine[status]) || strings.Contains(raw, "GOODSIG") {
		t.Errorf("git verify-commit --raw: %v, want %q:\n%s", err, hostileStatusLine[status], raw)
	}
	if g := hostileG(t, r, id); g != string(status) {
		t.Errorf("%%G? is %q, want %q", g, string(status))
	}
	t.Logf("git verify-commit: exit %d in %v, %%G? %c: %s", code, took.Round(time.Millisecond), status, strings.TrimSpace(human))
	return took
}

// hostileHelper runs gitsign as git does (gitsign --status-fd=1 --verify
// SIGFILE -, the payload on stdin) and checks its exit code and error.
func hostileHelper(t *testing.T, r *repo, id string, code int, status byte, text string) {
	t.Helper()
	payload, sig := hostileSplit(t, []byte(hostileMust(t, r, "cat-file", "commit", id)))
	file := filepath.Join(t.TempDir(), "sig")
	if err := os.WriteFile(file, sig, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gitsignBin, "--status-fd=1", "--verify", file, "-")
	cmd.Dir, cmd.Env, cmd.Stdin = r.dir, r.env, bytes.NewReader(payload)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if hostileExit(err) != code || !strings.Contains(stdout.String(), hostileStatusLine[status]) || !strings.Contains(stderr.String(), text) {
		t.Errorf("gitsign --verify: exit %d (%v), want %d, %q and %q:\n%s%s", hostileExit(err), err, code, hostileStatusLine[status], text, stdout.String(), stderr.String())
	}
}

// hostileCLI runs gitsign verify (with the policy flags given, by
// default billy@chainguard.dev at Google) and checks its exit code and
// error: for 1, a FAILED line on stdout; for 2, a usage error on stderr.
func hostileCLI(t *testing.T, r *repo, id string, code int, text string, policy ...string) {
	t.Helper()
	if policy == nil {
		policy = hostilePolicyArgs
	}
	out, errOut, err := r.run(gitsignBin, append(append([]string{"verify"}, policy...), id)...)
	got := out
	if code == 1 {
		got, _, _ = strings.Cut(out, "\n")
		if !strings.HasPrefix(got, id+" commit: FAILED: ") {
			t.Errorf("gitsign verify printed no FAILED line for %s:\n%s%s", id, out, errOut)
		}
	} else if code == 2 {
		got = errOut
	}
	if hostileExit(err) != code || !strings.Contains(got, text) {
		t.Errorf("gitsign verify: exit %d (%v), want %d and %q:\n%s%s", hostileExit(err), err, code, text, out, errOut)
	}
	t.Logf("gitsign verify: exit %d: %s", hostileExit(err), strings.TrimSpace(got))
}

// hostileRun builds each case's commit and checks it is refused through
// git, through gitsign as git runs it, and through gitsign verify, each
// with the case's own error. It returns the commits by case name and git
// verify-commit's wall time.
func hostileRun(t *testing.T, cases []hostileCase) (map[string]string, map[string]time.Duration) {
	r, raw := hostileRepo(t)
	r.setPolicy(hostileIdentity, hostileIssuer)
	_, orig := hostileSplit(t, raw)
	ids, took := map[string]string{}, map[string]time.Duration{}
	seen := map[string]string{}
	for _, c := range cases {
		if other, dup := seen[c.git]; dup {
			t.Fatalf("%s and %s expect the same error %q: each case needs its own", c.name, other, c.git)
		}
		seen[c.git] = c.name
		t.Run(c.name, func(t *testing.T) {
			id := hostileCommit(t, r, raw, c.sig(t, orig))
			if id == hostileVector {
				t.Fatal("the mutation left the commit unchanged")
			}
			ids[c.name] = id
			took[c.name] = hostileGit(t, r, id, c.status, c.git)
			hostileHelper(t, r, id, 1, c.status, c.git)
			cli := c.cli
			if cli == "" {
				cli = c.git
			}
			hostileCLI(t, r, id, 1, cli)
		})
	}
	return ids, took
}

// TestHostileBounded: signatures built to be expensive to parse are
// refused quickly, and one over the size cap is refused unread.
func TestHostileBounded(t *testing.T) {
	nested := append(bytes.Repeat([]byte{0x30, 0x80}, hostileDERCap/4-1), make([]byte, hostileDERCap/2)...)
	if n := len(cms.Armor(nested)); n > cms.MaxSignatureSize || n < cms.MaxSignatureSize-256 {
		t.Fatalf("nested BER armors to %d bytes, not just under the %d cap: fix the test", n, cms.MaxSignatureSize)
	}
	_, took := hostileRun(t, []hostileCase{
		{name: "nested indefinite BER at the cap", status: 'E', git: "indefinite length",
			sig: func(*testing.T, []byte) []byte { return cms.Armor(nested) }},
		{name: "one byte over the cap", status: 'E', git: "reading the signature: more than 262144 bytes", cli: "more than the 262144 allowed",
			sig: func(*testing.T, []byte) []byte { return hostileOversize() }},
		{name: "huge length field", status: 'E', git: "length field of 4 bytes",
			sig: func(*testing.T, []byte) []byte {
				return cms.Armor(append([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, make([]byte, hostileDERCap-6)...))
			}},
	})
	d := took["nested indefinite BER at the cap"]
	t.Logf("nested indefinite BER (%d armored bytes): git verify-commit took %v", len(cms.Armor(nested)), d)
	if d > 10*time.Second {
		t.Errorf("git verify-commit took %v on nested indefinite BER", d)
	}
}

// hostileOversize is SIGNED MESSAGE armor of one byte more than
// cms.MaxSignatureSize, in 64-column lines.
func hostileOversize() []byte {
	head, foot := "-----BEGIN SIGNED MESSAGE-----\n", "-----END SIGNED MESSAGE-----\n"
	var b bytes.Buffer
	b.WriteString(head)
	for n := cms.MaxSignatureSize + 1 - len(head) - len(foot); n > 0; {
		line := min(n, 65)
		b.WriteString(strings.Repeat("A", line-1) + "\n")
		n -= line
	}
	b.WriteString(foot)
	return b.Bytes()
}

// TestHostileMalleability: re-encodings that keep the signature valid but
// change the commit's bytes, and so its id, are refused.
func TestHostileMalleability(t *testing.T) {
	ids, _ := hostileRun(t, []hostileCase{
		{name: "bytes after the ContentInfo", status: 'E', git: "2 bytes after the end of the signature",
			sig: func(t *testing.T, orig []byte) []byte {
				der, _ := cms.Dearmor(orig)
				return cms.Armor(append(der, 0, 0))
			}},
		{name: "unknown unsigned attribute", status: 'E', git: "unsigned attribute 1.2.3.4 is not one gitsign signatures carry",
			sig: hostileEdit(func(t *testing.T, _ *protocol.SignedData, si *protocol.SignerInfo) {
				si.UnsignedAttrs = append(si.UnsignedAttrs, hostileAttr(t, asn1.ObjectIdentifier{1, 2, 3, 4}, []byte("x")))
			})},
		{name: "Rekor entry twice", status: 'E', git: "unsigned attribute 1.3.6.1.4.1.57264.3.1 appears more than once",
			sig: hostileEdit(func(t *testing.T, _ *protocol.SignedData, si *protocol.SignerInfo) {
				si.UnsignedAttrs = append(si.UnsignedAttrs, hostileEntry(t, si))
			})},
		{name: "armor at 76 columns", status: 'E', git: "PEM armor is not in canonical form",
			sig: func(t *testing.T, orig []byte) []byte {
				der, _ := cms.Dearmor(orig)
				return hostileWrap(der, 76)
			}},
		// ERRSIG, like every other encoding refusal.
		{name: "Rekor entry with an unknown field", status: 'E', git: "embedded entry is not in canonical form",
			sig: hostileEdit(func(t *testing.T, _ *protocol.SignedData, si *protocol.SignerInfo) {
				entry := hostileEntry(t, si)
				v, _ := entry.Value()
				var pb []byte
				if _, err := asn1.Unmarshal(v.Elements[0].FullBytes, &pb); err != nil {
					t.Fatal(err)
				}
				// Field 100, varint 1: protobuf readers skip it.
				pb = append(pb, 0xa0, 0x06, 0x01)
				for i := range si.UnsignedAttrs {
					if si.UnsignedAttrs[i].Type.Equal(hostileEntryOID) {
						si.UnsignedAttrs[i] = hostileAttr(t, hostileEntryOID, pb)
					}
				}
			})},
	})

	// The point of the rule: the re-wrapped armor holds the very same
	// signature, byte for byte, yet makes another commit. Were it
	// accepted, anyone could give a signed commit a second id.
	r, raw := hostileRepo(t)
	r.setPolicy(hostileIdentity, hostileIssuer)
	_, orig := hostileSplit(t, raw)
	der, _ := cms.Dearmor(orig)
	wrapped := hostileWrap(der, 76)
	if again, _ := cms.Dearmor(wrapped); !bytes.Equal(again, der) || bytes.Equal(wrapped, orig) {
		t.Fatal("the re-wrapped armor should hold the same DER in other bytes")
	}
	id := hostileCommit(t, r, raw, wrapped)
	if id == hostileVector || id != ids["armor at 76 columns"] {
		t.Fatalf("re-wrapped commit is %s (original %s, case %s)", id, hostileVector, ids["armor at 76 columns"])
	}
	if _, raw, err := r.run("git", "verify-commit", "--raw", hostileVector); err != nil || !strings.Contains(raw, "TRUST_FULLY") {
		t.Errorf("the original commit does not verify: %v\n%s", err, raw)
	}
	hostileGit(t, r, id, 'E', "PEM armor is not in canonical form")
	t.Logf("same signature DER, original %s verifies, re-wrapped %s is refused", hostileVector, id)
}

// hostileEntry returns the SignerInfo's Rekor entry attribute.
func hostileEntry(t *testing.T, si *protocol.SignerInfo) protocol.Attribute {
	t.Helper()
	for _, a := range si.UnsignedAttrs {
		if a.Type.Equal(hostileEntryOID) {
			return a
		}
	}
	t.Fatal("no Rekor entry in the signature")
	return protocol.Attribute{}
}

// hostileWrap armors der with base64 lines of width columns.
func hostileWrap(der []byte, width int) []byte {
	b64 := base64.StdEncoding.EncodeToString(der)
	var b bytes.Buffer
	b.WriteString("-----BEGIN SIGNED MESSAGE-----\n")
	for len(b64) > 0 {
		n := min(width, len(b64))
		b.WriteString(b64[:n] + "\n")
		b64 = b64[n:]
	}
	b.WriteString("-----END SIGNED MESSAGE-----\n")
	return b.Bytes()
}
