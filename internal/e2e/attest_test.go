//go:build e2e

package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/schemacheck"
)

const predicateType = "https://slsa.dev/provenance/v1"

// attestRepo is a repository that signs as alice with a timestamp
// authority, holding one signed commit, and a predicate file outside it.
func attestRepo(t *testing.T, env ...string) (r *repo, commit, predicatePath string, predicate []byte) {
	t.Helper()
	r = signersRepo(t, append([]string{"GITSIGN_TIMESTAMP_SERVER_URL=" + stackEnv(t, "GITSIGN_TIMESTAMP_SERVER_URL")}, env...)...)
	commit = r.commit("to attest")
	predicate = []byte("{\n  \"buildDefinition\": {\"buildType\": \"https://example.test/build/v1\", \"externalParameters\": {\"n\": 1.5}},\n  \"runDetails\": {\"builder\": {\"id\": \"https://example.test/builder\"}}\n}\n")
	predicatePath = filepath.Join(t.TempDir(), "provenance.json")
	if err := os.WriteFile(predicatePath, predicate, 0o644); err != nil {
		t.Fatal(err)
	}
	r.writeFile(".gitsigners", "alice@example.test "+stackEnv(t, "GITSIGN_OIDC_ISSUER")+"\n")
	return r, commit, predicatePath, predicate
}

// gitsign runs gitsign in r and checks its exit code; it returns stdout
// and stderr.
func (r *repo) gitsign(code int, args ...string) (string, string) {
	r.t.Helper()
	out, errOut, err := r.run(gitsignBin, args...)
	if hostileExit(err) != code {
		r.t.Fatalf("gitsign %s: exit %d (%v), want %d\n%s%s\ngitsign log:\n%s", strings.Join(args, " "), hostileExit(err), err, code, out, errOut, r.readLog())
	}
	return out, errOut
}

var objectID = regexp.MustCompile(`^[0-9a-f]{40}\n$`)

// TestAttest: gitsign attest stores a commit's and a tree's attestation in
// the reference's layout, signed on the local stack (Fulcio, Rekor v1 and
// v2, the timestamp authority), and gitsign verify-attestation accepts
// them under the policy, offline, and nothing else.
func TestAttest(t *testing.T) {
	r, commit, path, predicate := attestRepo(t)
	tree := strings.TrimSpace(r.git("rev-parse", commit+"^{tree}"))

	out, _ := r.gitsign(0, "attest", "-f", path, "--type", predicateType)
	if !objectID.MatchString(out) || strings.TrimSpace(out) != strings.TrimSpace(r.git("rev-parse", "refs/attestations/commits")) {
		t.Fatalf("gitsign attest printed %q, want the new refs/attestations/commits", out)
	}
	r.gitsign(0, "attest", "-f", path, "--objtype", "tree")

	t.Run("layout", func(t *testing.T) {
		checkLayout(t, r, "refs/attestations/commits", commit, "gitCommit", predicateType, predicate)
		checkLayout(t, r, "refs/attestations/trees", tree, "gitTree", "", predicate)
	})

	t.Run("verify", func(t *testing.T) {
		out, _ := r.gitsign(0, "verify-attestation", "--allowed-signers", ".gitsigners")
		for _, want := range []string{commit + " commit: attestation provenance.json: good signature from alice@example.test", "accepted by .gitsigners:1", "predicate type: " + predicateType, `"builder":{"id":"https://example.test/builder"}`} {
			if !strings.Contains(out, want) {
				t.Errorf("verify-attestation lacks %q:\n%s", want, out)
			}
		}
		out, _ = r.gitsign(0, "verify-attestation", "--objtype", "tree", "--json", "--allowed-signers", ".gitsigners", "HEAD")
		schemacheck.Check(t, "verify-attestation", []byte(out))
		var doc struct {
			Results []struct {
				Object, Type, Name, PredicateType string
				Verified, Timestamped             bool
				Predicate                         json.RawMessage
			}
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Results) != 1 {
			t.Fatalf("verify-attestation --json: %v\n%s", err, out)
		}
		res := doc.Results[0]
		if res.Object != tree || res.Type != "tree" || !res.Verified || !res.Timestamped || res.Name != "provenance.json" || !sameJSON(res.Predicate, predicate) {
			t.Errorf("verify-attestation --json: %+v", res)
		}
		// --type selects: the tree's attestation has no predicate type.
		_, errOut := r.gitsign(1, "verify-attestation", "--objtype", "tree", "--type", predicateType, "--allowed-signers", ".gitsigners")
		if !strings.Contains(errOut, "no attestation of type") {
			t.Errorf("verify-attestation --type of none: %s", errOut)
		}
	})

	t.Run("other identity", func(t *testing.T) {
		r.gitsign(1, "verify-attestation", "--certificate-identity", "bob@example.test", "--certificate-oidc-issuer", stackEnv(t, "GITSIGN_OIDC_ISSUER"))
		out, _, _ := r.run(gitsignBin, "verify-attestation", "--certificate-identity", "bob@example.test", "--certificate-oidc-issuer", stackEnv(t, "GITSIGN_OIDC_ISSUER"))
		if !strings.Contains(out, "FAILED: signed by alice@example.test") || strings.Contains(out, "builder") {
			t.Errorf("an attestation by another identity: %s", out)
		}
	})

	t.Run("predicate edited after signing", func(t *testing.T) {
		saved := strings.TrimSpace(r.git("rev-parse", "refs/attestations/commits"))
		defer r.git("update-ref", "refs/attestations/commits", saved)
		edited := bytes.Replace(predicate, []byte("builder\"}"), []byte("evil\"}"), 1)
		editRef(t, r, "refs/attestations/commits", map[string][]byte{commit + "/provenance.json": edited})
		out, _ := r.gitsign(1, "verify-attestation", "--allowed-signers", ".gitsigners")
		if !strings.Contains(out, "provenance.json is not the predicate provenance.json.sig signs") {
			t.Errorf("an edited predicate file: %s", out)
		}
		// The statement inside the envelope edited: its signature fails.
		sig := []byte(r.git("cat-file", "blob", saved+":"+commit+"/provenance.json.sig"))
		editRef(t, r, "refs/attestations/commits", map[string][]byte{
			commit + "/provenance.json":     edited,
			commit + "/provenance.json.sig": editPayload(t, sig, "builder\"}", "evil\"}"),
		})
		out, _ = r.gitsign(1, "verify-attestation", "--allowed-signers", ".gitsigners")
		if !strings.Contains(out, "FAILED") || strings.Contains(out, "good signature") {
			t.Errorf("an edited statement: %s", out)
		}
	})

	t.Run("moved to another object", func(t *testing.T) {
		saved := strings.TrimSpace(r.git("rev-parse", "refs/attestations/commits"))
		defer r.git("update-ref", "refs/attestations/commits", saved)
		other := r.commit("not attested")
		editRef(t, r, "refs/attestations/commits", map[string][]byte{
			other + "/provenance.json":     []byte(r.git("cat-file", "blob", saved+":"+commit+"/provenance.json")),
			other + "/provenance.json.sig": []byte(r.git("cat-file", "blob", saved+":"+commit+"/provenance.json.sig")),
		})
		out, _ := r.gitsign(1, "verify-attestation", "--allowed-signers", ".gitsigners", other)
		if !strings.Contains(out, "is not an attestation of this object: statement is about gitCommit "+commit) {
			t.Errorf("an attestation moved to %s: %s", other, out)
		}
		r.gitsign(0, "verify-attestation", "--allowed-signers", ".gitsigners", commit)
	})

	t.Run("rekor v2", func(t *testing.T) {
		v2 := append(append([]string(nil), r.env...), "GITSIGN_REKOR_URL="+stackEnv(t, "GITSIGN_LOCAL_REKOR_V2_URL"), "GITSIGN_REKOR_VERSION=2")
		saved := r.env
		r.env = v2
		defer func() { r.env = saved }()
		p := filepath.Join(t.TempDir(), "v2.json")
		os.WriteFile(p, []byte(`{"log":"v2"}`), 0o644)
		r.gitsign(0, "attest", "-f", p, "--type", "https://example.test/v2")
		out, _ := r.gitsign(0, "verify-attestation", "--type", "https://example.test/v2", "--allowed-signers", ".gitsigners")
		if !strings.Contains(out, "attestation v2.json: good signature") {
			t.Errorf("a Rekor v2 attestation: %s", out)
		}
	})
}

// TestAttestConcurrent: attestations made at the same time for the same
// commit all survive: each gitsign attest builds on the ref's tip and
// moves it only from there.
func TestAttestConcurrent(t *testing.T) {
	r, commit, _, _ := attestRepo(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]string, n)
	for i := range n {
		p := filepath.Join(t.TempDir(), fmt.Sprintf("p%d.json", i))
		os.WriteFile(p, fmt.Appendf(nil, `{"i":%d}`, i), 0o644)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, errOut, err := r.run(gitsignBin, "attest", "-f", p); err != nil {
				errs[i] = fmt.Sprintf("%v\n%s%s", err, out, errOut)
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Errorf("attest %d: %s", i, e)
		}
	}
	files := strings.Fields(r.git("ls-tree", "-r", "--name-only", "refs/attestations/commits"))
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("%s/p%d.json", commit, i), fmt.Sprintf("%s/p%d.json.sig", commit, i))
	}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("refs/attestations/commits holds %q, want %q", files, want)
	}
	if got := strings.TrimSpace(r.git("rev-list", "--count", "refs/attestations/commits")); got != fmt.Sprint(n) {
		t.Errorf("refs/attestations/commits has %s commits, want %d (one per attestation)", got, n)
	}
	out, _ := r.gitsign(0, "verify-attestation", "--allowed-signers", ".gitsigners")
	if c := strings.Count(out, "good signature"); c != n {
		t.Errorf("%d attestations verified, want %d:\n%s", c, n, out)
	}
}

// checkLayout checks ref as the reference writes it: an unsigned commit
// "Gitsign attest NAME" whose tree is ID/NAME (the file as given) and
// ID/NAME.sig, a DSSE envelope (payloadType, payload, signatures with
// keyid and sig, in that order) of an in-toto v1 statement about the
// object, with the predicate type (left out when empty) and the file's
// JSON as predicate.
func checkLayout(t *testing.T, r *repo, ref, id, digestName, predType string, predicate []byte) {
	t.Helper()
	entries := r.git("ls-tree", "-r", "--full-tree", ref)
	want := fmt.Sprintf("100644 blob %s\t%s/provenance.json\n100644 blob %s\t%s/provenance.json.sig\n",
		strings.TrimSpace(r.git("rev-parse", ref+":"+id+"/provenance.json")), id,
		strings.TrimSpace(r.git("rev-parse", ref+":"+id+"/provenance.json.sig")), id)
	if entries != want {
		t.Errorf("%s tree:\n%s\nwant\n%s", ref, entries, want)
	}
	if c := r.git("cat-file", "commit", ref); !strings.HasSuffix(c, "\n\nGitsign attest provenance.json\n") || strings.Contains(c, "gpgsig") {
		t.Errorf("%s commit:\n%s", ref, c)
	}
	if got := r.git("cat-file", "blob", ref+":"+id+"/provenance.json"); got != string(predicate) {
		t.Errorf("%s: the file is not stored verbatim:\n%s", ref, got)
	}
	sig := r.git("cat-file", "blob", ref+":"+id+"/provenance.json.sig")
	if !regexp.MustCompile(`(?s)^\{\s*"payloadType": "application/vnd.in-toto\+json",\s*"payload": "[A-Za-z0-9+/=]+",\s*"signatures": \[\s*\{\s*"keyid": "",\s*"sig": "[A-Za-z0-9+/=]+"\s*\}\s*\],`).MatchString(sig) {
		t.Errorf("%s: .sig is not the reference's DSSE envelope:\n%s", ref, sig)
	}
	var env struct{ Payload []byte }
	if err := json.Unmarshal([]byte(sig), &env); err != nil {
		t.Fatal(err)
	}
	var st map[string]json.RawMessage
	if err := json.Unmarshal(env.Payload, &st); err != nil {
		t.Fatalf("statement: %v", err)
	}
	wantSubject := fmt.Sprintf(`[{"digest":{%q:%q}}]`, digestName, id)
	if string(st["_type"]) != `"https://in-toto.io/Statement/v1"` || string(st["subject"]) != wantSubject || !sameJSON(st["predicate"], predicate) {
		t.Errorf("%s: statement %s", ref, env.Payload)
	}
	if pt, ok := st["predicateType"]; (predType == "") == ok || (ok && string(pt) != fmt.Sprintf("%q", predType)) {
		t.Errorf("%s: predicateType %s, want %q (left out when empty)", ref, pt, predType)
	}
}

// editRef commits to ref a tree with the given files replaced or added.
func editRef(t *testing.T, r *repo, ref string, files map[string][]byte) {
	t.Helper()
	index := filepath.Join(t.TempDir(), "index")
	withIndex := append(append([]string(nil), r.env...), "GIT_INDEX_FILE="+index)
	run := func(stdin []byte, args ...string) string {
		t.Helper()
		cmd := r.command("git", args...)
		cmd.Env = withIndex
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	run(nil, "read-tree", ref)
	for path, content := range files {
		blob := run(content, "hash-object", "-w", "--stdin")
		run(nil, "update-index", "--add", "--cacheinfo", "100644,"+blob+","+path)
	}
	tree := run(nil, "write-tree")
	commit := run(nil, "commit-tree", "--no-gpg-sign", "-p", ref, "-m", "edited", tree)
	run(nil, "update-ref", ref, commit)
}

// editPayload replaces old with new in the statement a .sig envelope
// holds, keeping the signature.
func editPayload(t *testing.T, sig []byte, old, new string) []byte {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal(sig, &f); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(f["payload"].(string))
	edited := strings.Replace(string(payload), old, new, 1)
	if edited == string(payload) {
		t.Fatalf("statement lacks %q", old)
	}
	f["payload"] = base64.StdEncoding.EncodeToString([]byte(edited))
	out, _ := json.Marshal(f)
	return out
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// command is a command to run in r, with r's environment.
func (r *repo) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	return cmd
}
