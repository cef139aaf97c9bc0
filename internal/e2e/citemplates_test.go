//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/schemacheck"
)

// The CI templates (contrib/github-action, contrib/gitlab-ci) end to end:
// their scripts run, as the forge would run them, against a local
// repository whose commits are signed on the local stack, with the event
// simulated (a GITHUB_EVENT_PATH payload, GitLab's CI_* variables). They
// take object ids only, and the allowed-signers file as it is on the base.

// ciCommits is a base commit whose .gitsigners lists alice, and heads on
// top of it.
type ciCommits struct {
	base     string
	good     string // two commits alice signed
	unsigned string // alice's commit, then this one, not signed
	widen    string // mallory widens .gitsigners to anyone, then signs another
	widenIDs []string
}

func ciRepo(t *testing.T) (*repo, ciCommits) {
	t.Helper()
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	r := signersRepo(t)
	var c ciCommits
	c.base = r.commitFile(".gitsigners", "alice@example.test "+issuer+"\n", "who may sign")
	r.git("checkout", "-q", "-b", "good")
	r.commitFile("a.txt", "a\n", "alice 1")
	c.good = r.commitFile("a.txt", "b\n", "alice 2")
	r.git("checkout", "-q", "-b", "unsigned", c.base)
	r.commitFile("u.txt", "a\n", "alice")
	r.writeFile("u.txt", "b\n")
	r.git("add", "u.txt")
	r.git("commit", "-q", "-m", "not signed")
	c.unsigned = strings.TrimSpace(r.git("rev-parse", "HEAD"))
	r.git("checkout", "-q", "-b", "widen", c.base)
	mallory := r.withEnv("SIGSTORE_ID_TOKEN=" + token(t, "mallory"))
	c.widenIDs = []string{
		mallory.commitFile(".gitsigners", "* *\n", "let everyone in"),
		mallory.commitFile("m.txt", "m\n", "mallory's change"),
	}
	c.widen = c.widenIDs[1]
	r.git("checkout", "-q", "main")
	// The widened file would accept mallory: only the base's file refuses.
	cliVerdict(t, r, 0, []string{"--allowed-signers", c.widen + ":.gitsigners", c.base + ".." + c.widen}, "good signature from mallory@example.test")
	return r, c
}

// ciNameRefs adds refs anyone who can push could add: a tag and a branch
// named origin/main at mallory's head, so that origin/main..HEAD is empty
// and origin/main:.gitsigners accepts anyone.
func ciNameRefs(r *repo, c ciCommits) {
	r.git("update-ref", "refs/remotes/origin/main", c.base)
	r.git("tag", "origin/main", c.widen)
	r.git("update-ref", "refs/heads/origin/main", c.widen)
}

// ciIDRefs adds refs named like the ids, each at another commit.
func ciIDRefs(r *repo, c ciCommits) []string {
	refs := []string{"refs/heads/" + c.base, "refs/tags/" + c.good, "refs/tags/" + c.unsigned, "refs/heads/" + c.widen}
	for i, ref := range refs {
		r.git("update-ref", ref, []string{c.widen, c.unsigned, c.good, c.good}[i])
	}
	return refs
}

// ciEnv is r's environment without any CI variables of the machine the
// tests run on, with gitsign first on PATH.
func ciEnv(r *repo, env ...string) *repo {
	c := *r
	c.env = nil
	for _, kv := range r.env {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "GITHUB_") && !strings.HasPrefix(name, "CI_") &&
			!strings.HasPrefix(name, "INPUT_") && !strings.HasPrefix(name, "SIGVERIFY_") && name != "PATH" {
			c.env = append(c.env, kv)
		}
	}
	c.env = append(c.env, "PATH="+filepath.Dir(gitsignBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	c.env = append(c.env, env...)
	return &c
}

// ciAction is what the test reads of contrib/github-action/action.yml: each
// input's default, the step's run line and its environment (variable →
// input), so that the simulation drifts only if action.yml does.
type ciAction struct {
	dir      string
	defaults map[string]string
	run      string
	env      map[string]string
}

func readCIAction(t *testing.T) ciAction {
	t.Helper()
	a := ciAction{dir: filepath.Join(repoRoot, "contrib", "github-action"), defaults: map[string]string{}, env: map[string]string{}}
	b, err := os.ReadFile(filepath.Join(a.dir, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	envLine := regexp.MustCompile(`^ {8}([A-Z_]+): \$\{\{ inputs\.([a-z-]+) \}\}$`)
	section, input := "", ""
	for _, l := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(l)
		indent := len(l) - len(strings.TrimLeft(l, " "))
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case indent == 0:
			section, _, _ = strings.Cut(l, ":")
		case section == "inputs" && indent == 2:
			input = strings.TrimSuffix(trimmed, ":")
			a.defaults[input] = ""
		case section == "inputs" && indent == 4 && strings.HasPrefix(trimmed, "default:"):
			v := strings.TrimSpace(strings.TrimPrefix(trimmed, "default:"))
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			a.defaults[input] = v
		case section == "runs" && strings.HasPrefix(trimmed, "run:"):
			a.run = strings.Trim(strings.TrimSpace(strings.TrimPrefix(trimmed, "run:")), "'")
		case section == "runs" && envLine.MatchString(l):
			m := envLine.FindStringSubmatch(l)
			a.env[m[1]] = m[2]
		}
	}
	if strings.Contains(a.run, "${{") {
		t.Fatalf("action.yml's run line interpolates an expression into the script: %q", a.run)
	}
	script := filepath.Join(a.dir, strings.Trim(strings.TrimPrefix(strings.Trim(a.run, `"`), "$GITHUB_ACTION_PATH/"), `"`))
	if st, err := os.Stat(script); err != nil || st.Mode()&0o111 == 0 || filepath.Dir(script) != a.dir {
		t.Fatalf("action.yml runs %q, which is not an executable script beside it: %v", a.run, err)
	}
	mapped := map[string]bool{}
	for _, in := range a.env {
		mapped[in] = true
	}
	for _, in := range []string{"allowed-signers", "base", "head", "trusted-root", "gitsign", "json"} {
		if _, ok := a.defaults[in]; !ok || !mapped[in] {
			t.Fatalf("action.yml: input %q is missing or not passed to the script (inputs %v, env %v)", in, a.defaults, a.env)
		}
	}
	return a
}

// ciRun is one run of the action: the event and its payload (a string is
// written as is), and inputs; it returns the exit code, stdout, stderr
// and the step summary.
type ciRun struct {
	code                 int
	out, errOut, summary string
}

func (a ciAction) runIn(t *testing.T, r *repo, event string, payload any, inputs map[string]string) ciRun {
	t.Helper()
	dir := t.TempDir()
	raw, ok := payload.(string)
	if !ok {
		b, err := json.Marshal(payload)
		if err != nil {
			t.Fatal(err)
		}
		raw = string(b)
	}
	eventPath, summaryPath := filepath.Join(dir, "event.json"), filepath.Join(dir, "summary.md")
	if err := os.WriteFile(eventPath, []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=" + event, "GITHUB_EVENT_PATH=" + eventPath,
		"GITHUB_STEP_SUMMARY=" + summaryPath, "GITHUB_ACTION_PATH=" + a.dir}
	for in := range inputs {
		if _, ok := a.defaults[in]; !ok {
			t.Fatalf("action.yml has no input %q", in)
		}
	}
	for name, in := range a.env {
		v, ok := inputs[in]
		if !ok {
			v = a.defaults[in]
		}
		env = append(env, name+"="+v)
	}
	// As the runner runs a bash step: bash --noprofile --norc -eo pipefail.
	out, errOut, err := ciEnv(r, env...).run("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", a.run)
	summary, _ := os.ReadFile(summaryPath)
	return ciRun{hostileExit(err), out, errOut, string(summary)}
}

func ciPullRequest(base, head any) map[string]any {
	return map[string]any{"pull_request": map[string]any{"base": map[string]any{"sha": base}, "head": map[string]any{"sha": head}}}
}

// expect checks a run's exit code and that its output has every text.
func (g ciRun) expect(t *testing.T, what string, code int, texts ...string) {
	t.Helper()
	if g.code != code {
		t.Errorf("%s: exit %d, want %d\n%s%s", what, g.code, code, g.out, g.errOut)
	}
	for _, text := range texts {
		if !strings.Contains(g.out+g.errOut, text) {
			t.Errorf("%s: the output lacks %q:\n%s%s", what, text, g.out, g.errOut)
		}
	}
}

// TestCITemplateGitHub: the action's script on pull request events passes
// a listed signer's commits and fails an unsigned commit and an unlisted
// signer's, also when the head widens .gitsigners; refs named origin/main
// change nothing, and refs named like the ids can at most make gitsign
// refuse; a malformed id is refused; push, merge_group and other events
// take their ids as documented.
func TestCITemplateGitHub(t *testing.T) {
	a := readCIAction(t)
	r, c := ciRepo(t)
	pr := func(head string) ciRun { return a.runIn(t, r, "pull_request", ciPullRequest(c.base, head), nil) }

	good := pr(c.good)
	good.expect(t, "listed signer", 0, "2 commit(s) in "+c.base+".."+c.good, c.good+" commit: good signature from alice@example.test", "accepted by "+c.base+":.gitsigners:1")
	if want := "gitsign verify: passed: 2 commit(s) in " + c.base[:12] + ".." + c.good[:12]; !strings.HasPrefix(good.summary, want) || strings.Count(good.summary, "\n") != 1 {
		t.Errorf("step summary %q, want one line starting %q", good.summary, want)
	}
	unsigned := pr(c.unsigned)
	unsigned.expect(t, "unsigned commit", 1, c.unsigned+" commit: FAILED: commit is not signed")
	if !strings.HasPrefix(unsigned.summary, "gitsign verify: FAILED (exit 1)") {
		t.Errorf("step summary for a failure: %q", unsigned.summary)
	}
	widen := pr(c.widen)
	widen.expect(t, "widened .gitsigners", 1, c.widenIDs[0]+" commit: FAILED: signed by", c.widenIDs[1]+" commit: FAILED: signed by")
	if strings.Contains(widen.out, "good signature") {
		t.Errorf("the head's own .gitsigners was used:\n%s", widen.out)
	}
	a.runIn(t, r, "pull_request_target", ciPullRequest(c.base, c.unsigned), nil).expect(t, "pull_request_target", 1, c.unsigned+" commit: FAILED")

	// Refs anyone can push change nothing: only ids are used. The recipe
	// the README used to give (origin/main:.gitsigners origin/main..HEAD)
	// is redirected by them, and must not pass.
	ciNameRefs(r, c)
	before := map[string]ciRun{c.good: good, c.unsigned: unsigned, c.widen: widen}
	for head, want := range before {
		if got := pr(head); got.code != want.code || got.out != want.out {
			t.Errorf("with refs named origin/main, %.12s: exit %d, want %d\n%s\nwant:\n%s%s", head, got.code, want.code, got.out+got.errOut, want.out, want.errOut)
		}
	}
	r.git("checkout", "-q", "widen")
	if out, errOut, err := r.run(gitsignBin, "verify", "--allowed-signers", "origin/main:.gitsigners", "origin/main..HEAD"); err == nil {
		t.Errorf("the old recipe passes with a tag named origin/main (it needs the ambiguous-name refusal):\n%s%s", out, errOut)
	}
	r.git("checkout", "-q", "main")
	// Refs named like the ids: git takes a full id as the object (and
	// warns), and so does gitsign verify: such a ref neither changes the
	// verdict nor blocks the check.
	refs := ciIDRefs(r, c)
	for head, want := range before {
		if got := pr(head); got.code != want.code || got.out != want.out {
			t.Errorf("with refs named like the ids, %.12s: exit %d, want %d\n%s\nwant:\n%s%s", head, got.code, want.code, got.out+got.errOut, want.out, want.errOut)
		}
	}
	for _, ref := range refs {
		r.git("update-ref", "-d", ref)
	}

	// Malformed ids, from the event or an input, are refused before git or
	// gitsign sees them.
	for _, bad := range []any{"main", "origin/main", "HEAD", c.base[:39], c.base + "0", c.base + "\n", strings.ToUpper(c.base),
		"-" + c.base[1:], c.base[:20] + " " + c.base[21:], 12345, []string{c.base}} {
		a.runIn(t, r, "pull_request", ciPullRequest(bad, c.good), nil).expect(t, "base "+strconv.Quote(ciJSON(bad)), 2, "is not a full object id", "::error title=gitsign verify::")
		a.runIn(t, r, "pull_request", ciPullRequest(c.base, bad), nil).expect(t, "head "+strconv.Quote(ciJSON(bad)), 2, "is not a full object id")
	}
	a.runIn(t, r, "pull_request", map[string]any{"pull_request": map[string]any{"head": map[string]any{"sha": c.good}}}, nil).expect(t, "no base", 2, "has no .pull_request.base.sha")
	a.runIn(t, r, "pull_request", ciPullRequest(c.base, c.good), map[string]string{"base": "refs/heads/main"}).expect(t, "base input", 2, "'refs/heads/main' is not a full object id")
	a.runIn(t, r, "pull_request", `{"pull_request": `, nil).expect(t, "broken payload", 2, "cannot read .pull_request.base.sha")
	a.runIn(t, r, "pull_request", ciPullRequest(c.base, strings.Repeat("ab", 20)), nil).expect(t, "missing head", 2, "is not in this repository", "fetch-depth: 0")

	// Push: before..after; a new branch has no base; a branch moved back
	// brings no commit and passes, unless allow-empty is false.
	push := func(before, after string, inputs map[string]string) ciRun {
		return a.runIn(t, r, "push", map[string]any{"before": before, "after": after, "ref": "refs/heads/main"}, inputs)
	}
	push(c.base, c.good, nil).expect(t, "push", 0, "2 commit(s)", "good signature from alice@example.test")
	push(c.base, c.unsigned, nil).expect(t, "push of an unsigned commit", 1, c.unsigned+" commit: FAILED")
	push(strings.Repeat("0", 40), c.good, nil).expect(t, "push creating a branch", 2, "before is all zeros", "set the action's base input")
	push(c.base, c.good, map[string]string{"base": c.base}).expect(t, "push with a base input", 0)
	push(c.good, c.base, nil).expect(t, "push moving back", 0, "0 commit(s)")
	push(c.good, c.base, map[string]string{"allow-empty": "false"}).expect(t, "push moving back, allow-empty false", 1, "nothing to verify")
	push(c.base, c.good, map[string]string{"allow-empty": "yes"}).expect(t, "allow-empty yes", 2, "allow-empty is 'yes'")

	mg := map[string]any{"merge_group": map[string]any{"base_sha": c.base, "head_sha": c.good}}
	a.runIn(t, r, "merge_group", mg, nil).expect(t, "merge_group", 0, "2 commit(s)")
	a.runIn(t, r, "workflow_dispatch", map[string]any{}, nil).expect(t, "workflow_dispatch", 2, "set the action's base and head inputs")
	a.runIn(t, r, "workflow_dispatch", map[string]any{}, map[string]string{"base": c.base, "head": c.unsigned}).expect(t, "workflow_dispatch with inputs", 1, c.unsigned+" commit: FAILED")

	// The other inputs: a JSON report, the trusted root, the binary's path,
	// a policy named by a short name (a warning).
	report := filepath.Join(t.TempDir(), "report.json")
	j := a.runIn(t, r, "pull_request", ciPullRequest(c.base, c.unsigned), map[string]string{"json": report, "trusted-root": stackEnv(t, "GITSIGN_TRUSTED_ROOT"), "gitsign": gitsignBin})
	j.expect(t, "json", 1, c.unsigned+" commit: FAILED: \"commit is not signed\"")
	var doc struct {
		Schema  int
		Results []struct {
			Object   string
			Verified bool
		}
	}
	b, err := os.ReadFile(report)
	if err != nil || json.Unmarshal(b, &doc) != nil || doc.Schema != 1 || len(doc.Results) != 2 || doc.Results[0].Object != c.unsigned || doc.Results[0].Verified || !doc.Results[1].Verified {
		t.Errorf("JSON report: %v %+v", err, doc)
	}
	schemacheck.Check(t, "verify", b)
	if g := a.runIn(t, r, "pull_request", ciPullRequest(c.base, c.good), map[string]string{"trusted-root": "/nonexistent/root.json"}); g.code == 0 || !strings.Contains(g.errOut, "trusted root /nonexistent/root.json") {
		t.Errorf("a trusted-root that does not exist: exit %d\n%s%s", g.code, g.out, g.errOut)
	}
	a.runIn(t, r, "pull_request", ciPullRequest(c.base, c.good), map[string]string{"gitsign": "/nonexistent/gitsign"}).expect(t, "no gitsign", 2, "is not installed")
	a.runIn(t, r, "pull_request", ciPullRequest(c.base, c.good), map[string]string{"allowed-signers": "main:.gitsigners"}).expect(t, "short name", 0, "::warning title=gitsign verify::", "short name")

	// A shallow clone can end the range early: refused.
	shallow := r.withEnv()
	shallow.dir = filepath.Join(t.TempDir(), "shallow")
	r.git("clone", "-q", "--depth=1", "--no-local", "--branch=good", r.dir, shallow.dir)
	a.runIn(t, shallow, "pull_request", ciPullRequest(c.base, c.good), nil).expect(t, "shallow clone", 2, "shallow", "fetch-depth: 0")
}

func ciJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// ciGitLabScript extracts the gitsign-verify job's script block from the
// template: the lines of its `- |` entry, indent removed.
func ciGitLabScript(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "contrib", "gitlab-ci", "gitsign-verify.gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	job, script := -1, -1
	for i, l := range lines {
		switch {
		case l == "gitsign-verify:":
			job = i
		case job >= 0 && script < 0 && l == "  script:":
			if i+1 >= len(lines) || lines[i+1] != "    - |" {
				t.Fatalf("the job's script is not one `- |` block: %q", lines[i+1:])
			}
			script = i + 2
		}
	}
	if script < 0 {
		t.Fatal("no gitsign-verify job with a script in the template")
	}
	var block []string
	for _, l := range lines[script:] {
		if l != "" && !strings.HasPrefix(l, "      ") {
			break
		}
		block = append(block, strings.TrimPrefix(l, "      "))
	}
	return strings.Join(block, "\n")
}

// TestCITemplateGitLab: the template's script, under sh and under bash as
// GitLab's runner starts it, in merge request and push pipelines, with
// refs anyone can push present.
func TestCITemplateGitLab(t *testing.T) {
	script := ciGitLabScript(t)
	r, c := ciRepo(t)
	ciNameRefs(r, c)
	// GitLab's merged results pipeline: CI_COMMIT_SHA is a merge commit it
	// made, unsigned; the source branch's head is what is verified.
	merged := strings.TrimSpace(r.git("commit-tree", c.good+"^{tree}", "-p", c.base, "-p", c.good, "-m", "merge"))
	zeros := strings.Repeat("0", 40)
	mr := func(head string) []string {
		return []string{"CI_PIPELINE_SOURCE=merge_request_event", "CI_MERGE_REQUEST_DIFF_BASE_SHA=" + c.base, "CI_COMMIT_SHA=" + head}
	}
	push := func(before, after string) []string {
		return []string{"CI_PIPELINE_SOURCE=push", "CI_COMMIT_BEFORE_SHA=" + before, "CI_COMMIT_SHA=" + after}
	}
	for _, tc := range []struct {
		name  string
		env   []string
		code  int
		texts []string
	}{
		{"merge request", mr(c.good), 0, []string{"2 commit(s)", c.good + " commit: good signature from alice@example.test", "accepted by " + c.base + ":.gitsigners:1"}},
		{"unsigned", mr(c.unsigned), 1, []string{c.unsigned + " commit: FAILED: commit is not signed"}},
		{"widened", mr(c.widen), 1, []string{c.widenIDs[0] + " commit: FAILED: signed by", c.widenIDs[1] + " commit: FAILED: signed by"}},
		{"merged results", append(mr(merged), "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA="+c.good), 0, []string{"2 commit(s) in " + c.base + ".." + c.good}},
		{"policy override", append(mr(c.widen), "SIGVERIFY_ALLOWED_SIGNERS="+c.widen+":.gitsigners"), 0, []string{"good signature from mallory@example.test"}},
		{"push", push(c.base, c.good), 0, []string{"2 commit(s)"}},
		{"push unsigned", push(c.base, c.unsigned), 1, []string{c.unsigned + " commit: FAILED"}},
		{"push moving back", push(c.good, c.base), 0, []string{"0 commit(s)"}},
		{"new branch", push(zeros, c.good), 2, []string{"all zeros", "set SIGVERIFY_BASE"}},
		{"new branch with a base", append(push(zeros, c.good), "SIGVERIFY_BASE="+c.base), 0, nil},
		{"other pipeline", []string{"CI_PIPELINE_SOURCE=web", "CI_COMMIT_SHA=" + c.good}, 2, []string{"set SIGVERIFY_BASE"}},
		{"other pipeline with ids", []string{"CI_PIPELINE_SOURCE=web", "SIGVERIFY_BASE=" + c.base, "SIGVERIFY_HEAD=" + c.unsigned}, 1, []string{c.unsigned + " commit: FAILED"}},
		{"base by name", append(mr(c.good), "SIGVERIFY_BASE=origin/main"), 2, []string{"'origin/main' is not a full object id"}},
		{"head by name", mr("HEAD"), 2, []string{"'HEAD' is not a full object id"}},
		{"short id", mr(c.good[:39]), 2, []string{"is not a full object id"}},
		{"upper case", mr(strings.ToUpper(c.good)), 2, []string{"is not a full object id"}},
		{"missing commit", mr(strings.Repeat("ab", 20)), 2, []string{"is not in this clone"}},
		{"trusted root", append(mr(c.good), "SIGVERIFY_TRUSTED_ROOT="+stackEnv(t, "GITSIGN_TRUSTED_ROOT"), "SIGVERIFY_GITSIGN="+gitsignBin), 0, nil},
	} {
		for _, shell := range [][]string{{"sh", "-e", "-c"}, {"bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"}} {
			out, errOut, err := ciEnv(r, tc.env...).run(shell[0], append(shell[1:], script)...)
			if code := hostileExit(err); code != tc.code {
				t.Errorf("%s (%s): exit %d, want %d\n%s%s", tc.name, shell[0], code, tc.code, out, errOut)
			}
			for _, text := range tc.texts {
				if !strings.Contains(out+errOut, text) {
					t.Errorf("%s (%s): the output lacks %q:\n%s%s", tc.name, shell[0], text, out, errOut)
				}
			}
		}
	}
}
