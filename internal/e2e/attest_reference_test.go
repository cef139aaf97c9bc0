//go:build e2e

package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// TestAttestReference runs the reference implementation's own `gitsign
// attest` (sigstore/gitsign, built by hack/reference-gitsign) against the
// local stack, beside ours, in one repository:
//
//   - for the same predicate about the same commit, the reference and
//     gitsign write the same layout: the ref, a parentless unsigned commit
//     "Gitsign attest NAME" by the same identity, a folder named by the
//     commit with NAME (the same blob) and NAME.sig, the same modes, and
//     the same DSSE envelope (payload type, one signature with an empty
//     keyid) of the same in-toto statement; gitsign's .sig only adds the
//     bundle's mediaType and verificationMaterial;
//   - the reference really logged its envelope: an intoto v0.0.1 entry in
//     the stack's Rekor v1, reached through a TLS front (it forces https)
//     whose hashes are the .sig file's and its statement's;
//   - gitsign attest appends to a ref the reference wrote, and the
//     reference's to a ref gitsign wrote, each keeping the other's files
//     and history; verify-attestation verifies gitsign's attestation in a
//     folder that also holds the reference's, and reports the reference's
//     as one that cannot be verified offline.
func TestAttestReference(t *testing.T) {
	reference := referenceGitsign(t)
	r, commit, path, predicate := attestRepo(t)
	tree := strings.TrimSpace(r.git("rev-parse", commit+"^{tree}"))
	// The reference takes the attestations commit's identity from the
	// global config only; ours from the repository's (Alice too).
	r.git("config", "--global", "user.name", "Alice")
	r.git("config", "--global", "user.email", "alice@example.test")
	rekor := newTLSFront(t, stackEnv(t, "GITSIGN_REKOR_URL"))
	refEnv := append(append([]string(nil), r.env...),
		"GITSIGN_REKOR_URL="+rekor.url,
		"SSL_CERT_FILE="+rekor.caFile,
		// The ID token of signersRepo (SIGSTORE_ID_TOKEN), and no
		// ambient CI credentials the reference would prefer.
		"GITSIGN_TOKEN_PROVIDER=envvar",
	)
	refAttest := func(args ...string) (attCommit string, logIndex int64) {
		t.Helper()
		cmd := r.command(reference, append([]string{"attest"}, args...)...)
		cmd.Env = refEnv
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("reference gitsign attest %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		m := regexp.MustCompile(`^LogEntry ID [0-9a-f]{64} ([0-9]+)\n([0-9a-f]{40})\n$`).FindStringSubmatch(stdout.String())
		if m == nil {
			t.Fatalf("reference gitsign attest %s printed %q, want its log entry and the new commit", strings.Join(args, " "), stdout.String())
		}
		fmt.Sscan(m[1], &logIndex)
		return m[2], logIndex
	}
	tip := func(ref string) string { return strings.TrimSpace(r.git("rev-parse", "--verify", "--quiet", ref)) }

	// The same predicate about the same commit, from each, on an empty ref.
	ours := strings.TrimSpace(first(r.gitsign(0, "attest", "-f", path, "--type", predicateType)))
	r.git("update-ref", "-d", "refs/attestations/commits", ours)
	uploads := rekor.uploads.Load()
	theirs, logIndex := refAttest("-f", path, "--type", predicateType)
	if got := tip("refs/attestations/commits"); got != theirs {
		t.Fatalf("reference gitsign attest printed %s; refs/attestations/commits is %q", theirs, got)
	}
	if n := rekor.uploads.Load() - uploads; n != 1 {
		t.Errorf("the reference made %d uploads through the TLS front to Rekor, want 1", n)
	}

	t.Run("same layout", func(t *testing.T) {
		compareAttestationCommits(t, r, theirs, ours, commit, "gitCommit", "provenance.json", predicate)
	})

	t.Run("reference logged it", func(t *testing.T) {
		sig := []byte(r.git("cat-file", "blob", theirs+":"+commit+"/provenance.json.sig"))
		checkIntotoEntry(t, stackEnv(t, "GITSIGN_REKOR_URL"), logIndex, sig)
	})

	// Ours appends to the reference's ref, in the same folder.
	reviewPath := filepath.Join(t.TempDir(), "review.json")
	os.WriteFile(reviewPath, []byte(`{"reviewer":"alice","approved":true}`), 0o644)
	appended := strings.TrimSpace(first(r.gitsign(0, "attest", "-f", reviewPath, "--type", "https://example.test/review/v1")))

	t.Run("ours appends to the reference's", func(t *testing.T) {
		checkAppended(t, r, appended, theirs, commit, "review.json", []string{"provenance.json", "provenance.json.sig", "review.json", "review.json.sig"})
	})

	t.Run("verify the folder", func(t *testing.T) {
		out, errOut := r.gitsign(0, "verify-attestation", "--allowed-signers", ".gitsigners")
		for _, want := range []string{
			commit + " commit: attestation provenance.json: FAILED: ",
			commit + " commit: attestation review.json: good signature from alice@example.test",
			"predicate type: https://example.test/review/v1",
			`"approved":true`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("verify-attestation lacks %q:\n%s%s", want, out, errOut)
			}
		}
		if !strings.Contains(out+errOut, "cannot be verified offline") || strings.Contains(out, "builder") {
			t.Errorf("verify-attestation does not report the reference's attestation as one that cannot be verified offline:\n%s%s", out, errOut)
		}
		// Only the reference's: none verifies.
		out, _ = r.gitsign(1, "verify-attestation", "--type", predicateType, "--allowed-signers", ".gitsigners")
		if !strings.Contains(out, "cannot be verified offline") || strings.Contains(out, "good signature") {
			t.Errorf("verify-attestation --type of the reference's only:\n%s", out)
		}
	})

	// The tree: ours first, then the reference's appended to it.
	r.gitsign(0, "attest", "-f", path, "--objtype", "tree")
	oursTree := tip("refs/attestations/trees")
	sbomPath := filepath.Join(t.TempDir(), "sbom.json")
	sbom := []byte("{\"spdxVersion\": \"SPDX-2.3\", \"packages\": [{\"name\": \"app\", \"versionInfo\": \"1.0.0\"}]}\n")
	os.WriteFile(sbomPath, sbom, 0o644)
	theirsTree, treeIndex := refAttest("-f", sbomPath, "--objtype", "tree")

	t.Run("reference appends to ours", func(t *testing.T) {
		checkAppended(t, r, theirsTree, oursTree, tree, "sbom.json", []string{"provenance.json", "provenance.json.sig", "sbom.json", "sbom.json.sig"})
		if got := tip("refs/attestations/trees"); got != theirsTree {
			t.Errorf("refs/attestations/trees is %s, want the reference's %s", got, theirsTree)
		}
		sig := []byte(r.git("cat-file", "blob", theirsTree+":"+tree+"/sbom.json.sig"))
		st := checkReferenceSig(t, sig)
		checkStatement(t, st, "gitTree", tree, "", sbom)
		checkIntotoEntry(t, stackEnv(t, "GITSIGN_REKOR_URL"), treeIndex, sig)
		if got := r.git("cat-file", "blob", theirsTree+":"+tree+"/sbom.json"); got != string(sbom) {
			t.Errorf("the reference's sbom.json is not stored verbatim:\n%s", got)
		}
		out, errOut := r.gitsign(0, "verify-attestation", "--objtype", "tree", "--allowed-signers", ".gitsigners")
		for _, want := range []string{
			tree + " tree: attestation provenance.json: good signature from alice@example.test",
			tree + " tree: attestation sbom.json: FAILED: ",
			"cannot be verified offline",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("verify-attestation --objtype tree lacks %q:\n%s%s", want, out, errOut)
			}
		}
		// The commit's attestations are untouched by the tree's.
		if got := tip("refs/attestations/commits"); got != appended {
			t.Errorf("refs/attestations/commits moved to %s", got)
		}
	})
}

// referenceGitsign is the path of the reference implementation's binary,
// from hack/reference-gitsign (which `make e2e` runs first, with the
// module proxy on).
func referenceGitsign(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "reference-gitsign"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/reference-gitsign: %v\n%s(run hack/reference-gitsign outside the stack's namespace first: it builds sigstore/gitsign with the module proxy)", err, stderr.String())
	}
	bin := strings.TrimSpace(string(out))
	v, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(v), "gitsign version v") {
		t.Fatalf("%s version: %v\n%s", bin, err, v)
	}
	return bin
}

// tlsFront is an https reverse proxy to a plain-http server, with a
// certificate for 127.0.0.1 that caFile alone trusts.
type tlsFront struct {
	url, caFile string
	uploads     atomic.Int64 // POSTs of log entries
}

func newTLSFront(t *testing.T, backend string) *tlsFront {
	t.Helper()
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	f := &tlsFront{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost && req.URL.Path == "/api/v1/log/entries" {
			f.uploads.Add(1)
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// compareAttestationCommits checks that two attestations commits, the
// reference's and ours, each the first on its ref, of the same predicate
// file name about object id, are the same but for what only gitsign's
// .sig adds and the signatures themselves.
func compareAttestationCommits(t *testing.T, r *repo, theirs, ours, id, digestName, name string, predicate []byte) {
	t.Helper()
	// The trees: one folder, named by the object, of two regular files.
	for _, c := range []string{theirs, ours} {
		top := r.git("ls-tree", "--full-tree", c)
		if !regexp.MustCompile(`^040000 tree [0-9a-f]{40}\t` + id + "\n$").MatchString(top) {
			t.Errorf("%s tree:\n%s", c, top)
		}
	}
	shape := func(c string) string {
		return regexp.MustCompile(` [0-9a-f]{40}\t`).ReplaceAllString(r.git("ls-tree", "-r", "-t", "--full-tree", c), "\t")
	}
	if a, b := shape(theirs), shape(ours); a != b || a != fmt.Sprintf("040000 tree\t%s\n100644 blob\t%s/%s\n100644 blob\t%s/%s.sig\n", id, id, name, id, name) {
		t.Errorf("trees differ: the reference's\n%sours\n%s", a, b)
	}
	// The file itself, byte for byte, in both.
	blob := func(c, path string) string { return strings.TrimSpace(r.git("rev-parse", c+":"+path)) }
	if a, b := blob(theirs, id+"/"+name), blob(ours, id+"/"+name); a != b {
		t.Errorf("%s: the reference stored blob %s, ours %s", name, a, b)
	}
	if got := r.git("cat-file", "blob", theirs+":"+id+"/"+name); got != string(predicate) {
		t.Errorf("the reference's %s is not the file:\n%s", name, got)
	}

	// The commits: no parent, no signature, the same identity and
	// message (the reference's has no final newline; git's commit-tree
	// always ends one).
	a, b := parseCommit(t, r, theirs), parseCommit(t, r, ours)
	if !reflect.DeepEqual(a.headers, []string{"tree", "author", "committer"}) || !reflect.DeepEqual(b.headers, a.headers) {
		t.Errorf("commit headers: the reference's %q, ours %q", a.headers, b.headers)
	}
	if a.author != "Alice <alice@example.test>" || a.committer != a.author || b.author != a.author || b.committer != a.author {
		t.Errorf("commit identities: the reference's %q/%q, ours %q/%q", a.author, a.committer, b.author, b.committer)
	}
	if want := "Gitsign attest " + name; a.message != want || b.message != want+"\n" {
		t.Errorf("commit messages: the reference's %q, ours %q, want %q", a.message, b.message, want)
	}

	// The .sig files: the same envelope of the same statement.
	sigA := []byte(r.git("cat-file", "blob", theirs+":"+id+"/"+name+".sig"))
	sigB := []byte(r.git("cat-file", "blob", ours+":"+id+"/"+name+".sig"))
	stA := checkReferenceSig(t, sigA)
	var fa, fb map[string]json.RawMessage
	json.Unmarshal(sigA, &fa)
	if err := json.Unmarshal(sigB, &fb); err != nil {
		t.Fatalf("our .sig: %v", err)
	}
	if got := slices.Sorted(maps.Keys(fb)); !reflect.DeepEqual(got, []string{"mediaType", "payload", "payloadType", "signatures", "verificationMaterial"}) {
		t.Errorf("our .sig has members %q: the reference's and the bundle's mediaType and verificationMaterial", got)
	}
	if !bytes.Equal(fa["payloadType"], fb["payloadType"]) {
		t.Errorf("payload types: the reference's %s, ours %s", fa["payloadType"], fb["payloadType"])
	}
	var sa, sb []map[string]json.RawMessage
	json.Unmarshal(fa["signatures"], &sa)
	json.Unmarshal(fb["signatures"], &sb)
	if len(sb) != 1 || !reflect.DeepEqual(slices.Sorted(maps.Keys(sb[0])), slices.Sorted(maps.Keys(sa[0]))) || !bytes.Equal(sb[0]["keyid"], sa[0]["keyid"]) {
		t.Errorf("signatures: the reference's %s, ours %s", fa["signatures"], fb["signatures"])
	}
	var payloadB []byte
	json.Unmarshal(fb["payload"], &payloadB)
	var stB map[string]json.RawMessage
	if err := json.Unmarshal(payloadB, &stB); err != nil {
		t.Fatalf("our statement: %v", err)
	}
	if !reflect.DeepEqual(slices.Sorted(maps.Keys(stA)), slices.Sorted(maps.Keys(stB))) {
		t.Errorf("statement members: the reference's %q, ours %q", slices.Sorted(maps.Keys(stA)), slices.Sorted(maps.Keys(stB)))
	}
	for k, v := range stA {
		if !sameJSON(v, stB[k]) {
			t.Errorf("statement %s: the reference's %s, ours %s", k, v, stB[k])
		}
	}
	checkStatement(t, stA, digestName, id, predicateType, predicate)
	checkStatement(t, stB, digestName, id, predicateType, predicate)
}

// checkReferenceSig checks a .sig file as the reference writes it: a DSSE
// envelope (payloadType, payload, one signature with an empty keyid) and
// nothing else; it returns its statement's members.
func checkReferenceSig(t *testing.T, sig []byte) map[string]json.RawMessage {
	t.Helper()
	var env struct {
		PayloadType string
		Payload     []byte
		Signatures  []map[string]string
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(sig, &members); err != nil {
		t.Fatalf("the reference's .sig: %v\n%s", err, sig)
	}
	if got := slices.Sorted(maps.Keys(members)); !reflect.DeepEqual(got, []string{"payload", "payloadType", "signatures"}) {
		t.Errorf("the reference's .sig has members %q", got)
	}
	json.Unmarshal(sig, &env)
	if env.PayloadType != "application/vnd.in-toto+json" || len(env.Signatures) != 1 || len(env.Signatures[0]) != 2 ||
		env.Signatures[0]["keyid"] != "" || env.Signatures[0]["sig"] == "" {
		t.Errorf("the reference's envelope: %s", sig)
	}
	var st map[string]json.RawMessage
	if err := json.Unmarshal(env.Payload, &st); err != nil {
		t.Fatalf("the reference's statement: %v\n%s", err, env.Payload)
	}
	return st
}

// checkStatement checks an in-toto v1 statement's members: about the
// object alone, of the predicate type (none when empty), the predicate.
func checkStatement(t *testing.T, st map[string]json.RawMessage, digestName, id, predType string, predicate []byte) {
	t.Helper()
	want := map[string]json.RawMessage{
		"_type":     json.RawMessage(`"https://in-toto.io/Statement/v1"`),
		"subject":   json.RawMessage(fmt.Sprintf(`[{"digest":{%q:%q}}]`, digestName, id)),
		"predicate": predicate,
	}
	if predType != "" {
		want["predicateType"] = json.RawMessage(fmt.Sprintf("%q", predType))
	}
	if !reflect.DeepEqual(slices.Sorted(maps.Keys(st)), slices.Sorted(maps.Keys(want))) {
		t.Errorf("statement members %q, want %q", slices.Sorted(maps.Keys(st)), slices.Sorted(maps.Keys(want)))
	}
	for k, v := range want {
		if !sameJSON(st[k], v) {
			t.Errorf("statement %s is %s, want %s", k, st[k], v)
		}
	}
}

// checkAppended checks that attestations commit c was made on parent,
// with parent's tree plus name and name.sig in id's folder: parent's
// other files are kept as they were.
func checkAppended(t *testing.T, r *repo, c, parent, id, name string, wantFiles []string) {
	t.Helper()
	if got := strings.Fields(r.git("rev-list", "--parents", "-n1", c)); len(got) != 2 || got[1] != parent {
		t.Errorf("%s has parents %q, want %s", c, got[1:], parent)
	}
	if msg := r.git("log", "-1", "--format=%s", c); msg != "Gitsign attest "+name+"\n" {
		t.Errorf("%s has subject %q", c, msg)
	}
	files := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.git("ls-tree", "-r", "--full-tree", c)), "\n") {
		meta, path, _ := strings.Cut(line, "\t")
		files[path] = meta
	}
	var got []string
	for path, meta := range files {
		folder, file, _ := strings.Cut(path, "/")
		if folder != id || !strings.HasPrefix(meta, "100644 blob ") {
			t.Errorf("%s holds %s %s", c, meta, path)
		}
		got = append(got, file)
	}
	slices.Sort(got)
	if !reflect.DeepEqual(got, wantFiles) {
		t.Errorf("%s holds %q in %s, want %q", c, got, id, wantFiles)
	}
	before := r.git("ls-tree", "-r", "--full-tree", parent)
	for _, line := range strings.Split(strings.TrimSpace(before), "\n") {
		meta, path, _ := strings.Cut(line, "\t")
		if files[path] != meta {
			t.Errorf("%s changed %s: %q, was %q", c, path, files[path], meta)
		}
	}
}

type commitObject struct {
	headers                    []string
	author, committer, message string
}

// parseCommit reads a commit object: its header names in order, its
// identities without the time, and its message as stored.
func parseCommit(t *testing.T, r *repo, c string) commitObject {
	t.Helper()
	raw := r.git("cat-file", "commit", c)
	head, msg, ok := strings.Cut(raw, "\n\n")
	if !ok {
		t.Fatalf("commit %s: %q", c, raw)
	}
	o := commitObject{message: msg}
	ident := regexp.MustCompile(`^(.*) [0-9]+ [-+][0-9]{4}$`)
	for _, line := range strings.Split(head, "\n") {
		key, value, _ := strings.Cut(line, " ")
		if strings.HasPrefix(line, " ") {
			continue // a continuation line
		}
		o.headers = append(o.headers, key)
		switch key {
		case "author", "committer":
			m := ident.FindStringSubmatch(value)
			if m == nil {
				t.Errorf("commit %s: %s %q", c, key, value)
				continue
			}
			if key == "author" {
				o.author = m[1]
			} else {
				o.committer = m[1]
			}
		}
	}
	return o
}

// checkIntotoEntry checks that the Rekor v1 entry at index is an intoto
// v0.0.1 entry of the envelope in sig: the hashes of the envelope, as
// uploaded, and of its payload.
func checkIntotoEntry(t *testing.T, rekorURL string, index int64, sig []byte) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/log/entries?logIndex=%d", rekorURL, index))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var entries map[string]struct{ Body string }
	if err := json.Unmarshal(b, &entries); err != nil || len(entries) != 1 || resp.StatusCode != http.StatusOK {
		t.Fatalf("Rekor entry %d: %s: %v\n%s", index, resp.Status, err, b)
	}
	var body struct {
		APIVersion, Kind string
		Spec             struct {
			Content struct {
				Hash, PayloadHash struct{ Algorithm, Value string }
			}
		}
	}
	for _, e := range entries {
		raw, _ := base64.StdEncoding.DecodeString(e.Body)
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("Rekor entry %d body: %v\n%s", index, err, raw)
		}
	}
	var env struct{ Payload []byte }
	json.Unmarshal(sig, &env)
	hash, payloadHash := sha256.Sum256(sig), sha256.Sum256(env.Payload)
	c := body.Spec.Content
	if body.Kind != "intoto" || body.APIVersion != "0.0.1" ||
		c.Hash.Algorithm != "sha256" || c.Hash.Value != hex.EncodeToString(hash[:]) ||
		c.PayloadHash.Algorithm != "sha256" || c.PayloadHash.Value != hex.EncodeToString(payloadHash[:]) {
		t.Errorf("Rekor entry %d is not an intoto v0.0.1 entry of the .sig file: %+v", index, body)
	}
}

// first returns the first of two values (stdout of r.gitsign).
func first(a, _ string) string { return a }
