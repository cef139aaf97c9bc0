//go:build e2e

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// The GitHub Actions tests sign the way a workflow job does: gitsign's
// github-actions token provider asks the job's token service
// (ACTIONS_ID_TOKEN_REQUEST_URL, authorized by ACTIONS_ID_TOKEN_REQUEST_TOKEN)
// for a token with audience sigstore. The service is the local stack's CI
// issuer (hack/sigstore-local.d/actions), whose tokens carry a GitHub
// Actions job's claims; the stack's Fulcio is configured as the public
// instance is for GitHub Actions, so the certificate names the workflow and
// carries the CI extensions, which `gitsign verify` then matches.

// actionsJob is a job at the local CI issuer, with the claims its tokens
// carry.
type actionsJob struct {
	repository, ref, workflow, workflowName, event, sha string
	requestURL, requestToken                            string
}

// san is the certificate identity Fulcio gives the job's workflow.
func (j *actionsJob) san() string {
	return "https://github.com/" + j.repository + "/" + j.workflow + "@" + j.ref
}

// env is what the job's steps see.
func (j *actionsJob) env() []string {
	return []string{"ACTIONS_ID_TOKEN_REQUEST_URL=" + j.requestURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + j.requestToken}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// newActionsJob starts a job at the CI issuer (POST /jobs) and returns its
// request URL and token.
func newActionsJob(t *testing.T, repository, ref, workflow, workflowName, event string) *actionsJob {
	t.Helper()
	j := &actionsJob{repository: repository, ref: ref, workflow: workflow, workflowName: workflowName, event: event, sha: randomHex(t, 20)}
	form := url.Values{"repository": {repository}, "ref": {ref}, "workflow": {workflow},
		"workflow_name": {workflowName}, "event": {event}, "sha": {j.sha}}
	resp, err := http.PostForm(stackEnv(t, "GITSIGN_LOCAL_ACTIONS_ISSUER")+"/jobs", form)
	if err != nil {
		t.Fatalf("creating a job at the CI issuer: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		RequestURL   string `json:"request_url"`
		RequestToken string `json:"request_token"`
		Message      string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating a job at the CI issuer: HTTP %d %v %s", resp.StatusCode, err, out.Message)
	}
	j.requestURL, j.requestToken = out.RequestURL, out.RequestToken
	return j
}

// ciSignature reads the signature of the commit at rev: it parses, its
// certificate chains to the stack's Fulcio root (openssl), and the
// certificate's summary is returned.
func ciSignature(t *testing.T, r *repo, rev string) certificate.Summary {
	t.Helper()
	id := strings.TrimSpace(r.git("rev-parse", rev))
	payload, sigPEM, err := gitobj.Split("commit", []byte(r.git("cat-file", "commit", id)))
	if err != nil {
		t.Fatalf("commit %s: %v", id, err)
	}
	p, err := cms.Parse(sigPEM)
	if err != nil {
		t.Fatalf("commit %s: %v\n%s", id, err, sigPEM)
	}
	(&signed{id: id, typ: "commit", payload: payload, pem: sigPEM, si: p.Signer, cert: p.Cert}).opensslVerify(t)
	if len(p.Cert.EmailAddresses) != 0 {
		t.Errorf("a workflow's certificate names email addresses %v", p.Cert.EmailAddresses)
	}
	sum, err := certificate.SummarizeCertificate(p.Cert)
	if err != nil {
		t.Fatalf("commit %s: summarizing the certificate: %v", id, err)
	}
	return sum
}

// checkClaims compares the certificate with the job: the workflow's URI as
// its SAN, and the repository, ref, sha, workflow and trigger in both the
// current extensions and the deprecated github-workflow-* ones.
func checkClaims(t *testing.T, sum certificate.Summary, j *actionsJob) {
	t.Helper()
	issuer := stackEnv(t, "GITSIGN_LOCAL_ACTIONS_ISSUER")
	repoURL := "https://github.com/" + j.repository
	workflowURI := j.san()
	e := sum.Extensions
	for _, c := range []struct{ name, got, want string }{
		{"SAN", sum.SubjectAlternativeName, workflowURI},
		{"issuer (1.8)", e.Issuer, issuer},
		{"github-workflow-trigger (1.2)", e.GithubWorkflowTrigger, j.event},
		{"github-workflow-sha (1.3)", e.GithubWorkflowSHA, j.sha},
		{"github-workflow-name (1.4)", e.GithubWorkflowName, j.workflowName},
		{"github-workflow-repository (1.5)", e.GithubWorkflowRepository, j.repository},
		{"github-workflow-ref (1.6)", e.GithubWorkflowRef, j.ref},
		{"build-signer-uri (1.9)", e.BuildSignerURI, workflowURI},
		{"build-signer-digest (1.10)", e.BuildSignerDigest, j.sha},
		{"runner-environment (1.11)", e.RunnerEnvironment, "github-hosted"},
		{"source-repository-uri (1.12)", e.SourceRepositoryURI, repoURL},
		{"source-repository-digest (1.13)", e.SourceRepositoryDigest, j.sha},
		{"source-repository-ref (1.14)", e.SourceRepositoryRef, j.ref},
		{"source-repository-owner-uri (1.16)", e.SourceRepositoryOwnerURI, "https://github.com/" + strings.Split(j.repository, "/")[0]},
		{"build-config-uri (1.18)", e.BuildConfigURI, workflowURI},
		{"build-config-digest (1.19)", e.BuildConfigDigest, j.sha},
		{"build-trigger (1.20)", e.BuildTrigger, j.event},
		{"source-repository-visibility-at-signing (1.22)", e.SourceRepositoryVisibilityAtSigning, "public"},
	} {
		if c.got != c.want {
			t.Errorf("certificate %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	for name, v := range map[string]string{"source-repository-identifier (1.15)": e.SourceRepositoryIdentifier,
		"source-repository-owner-identifier (1.17)": e.SourceRepositoryOwnerIdentifier} {
		if v == "" || strings.Trim(v, "0123456789") != "" {
			t.Errorf("certificate %s = %q, want a numeric ID", name, v)
		}
	}
	if !strings.HasPrefix(e.RunInvocationURI, repoURL+"/actions/runs/") || !strings.HasSuffix(e.RunInvocationURI, "/attempts/1") {
		t.Errorf("certificate run-invocation-uri (1.21) = %q, want %s/actions/runs/N/attempts/1", e.RunInvocationURI, repoURL)
	}
}

// verifyExit runs gitsign verify with args on HEAD and returns its exit
// code and output.
func verifyExit(t *testing.T, r *repo, args ...string) (int, string) {
	t.Helper()
	out, errOut, err := r.run(gitsignBin, append(append([]string{"verify"}, args...), "HEAD")...)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out + errOut
	case errors.As(err, &ee):
		return ee.ExitCode(), out + errOut
	default:
		t.Fatalf("gitsign verify: %v", err)
		return -1, ""
	}
}

// TestActionsSignAsWorkflow: in a GitHub Actions job (the two variables
// set, no SIGSTORE_ID_TOKEN, no provider chosen) `git commit -S` signs as
// the job's workflow, and the signature verifies against the workflow's
// identity and its CI claims, which must each match.
func TestActionsSignAsWorkflow(t *testing.T) {
	j := newActionsJob(t, "octo-org/widget", "refs/tags/v1.2.3", ".github/workflows/release.yml", "Release", "push")
	issuer := stackEnv(t, "GITSIGN_LOCAL_ACTIONS_ISSUER")
	r := loginRepo(t, j.env()...)
	for _, kv := range r.env {
		if strings.HasPrefix(kv, "SIGSTORE_ID_TOKEN=") || strings.HasPrefix(kv, "GITSIGN_TOKEN_PROVIDER=") {
			t.Fatalf("the job's environment has %s", kv)
		}
	}
	r.commit("released by CI")
	checkClaims(t, ciSignature(t, r, "HEAD"), j)
	log := r.readLog()
	if !strings.Contains(log, "signed as "+j.san()+" (issuer "+issuer+")") {
		t.Errorf("the log does not say the workflow signed:\n%s", log)
	}
	if strings.Contains(log, j.requestToken) {
		t.Error("the log holds the job's request token")
	}

	// The same with the provider named, as a workflow may configure it.
	r2 := loginRepo(t, append(j.env(), "GITSIGN_TOKEN_PROVIDER=github-actions")...)
	r2.commit("released by CI, provider named")
	checkClaims(t, ciSignature(t, r2, "HEAD"), j)

	base := []string{"--certificate-identity", j.san(), "--certificate-oidc-issuer", issuer}
	if code, out := verifyExit(t, r, base...); code != 0 {
		t.Fatalf("gitsign verify as the workflow: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"identity", []string{"--certificate-identity", "https://github.com/octo-org/widget/.github/workflows/other.yml@refs/tags/v1.2.3", "--certificate-oidc-issuer", issuer}},
		{"issuer", []string{"--certificate-identity", j.san(), "--certificate-oidc-issuer", stackEnv(t, "GITSIGN_OIDC_ISSUER")}},
	} {
		if code, out := verifyExit(t, r, c.args...); code != 1 {
			t.Errorf("gitsign verify with the wrong %s: exit %d, want 1\n%s", c.name, code, out)
		}
	}

	for _, c := range []struct{ flag, good, bad string }{
		{"--certificate-github-workflow-repository", j.repository, "octo-org/gadget"},
		{"--certificate-github-workflow-ref", j.ref, "refs/heads/main"},
		{"--certificate-github-workflow-name", j.workflowName, "Nightly"},
		{"--certificate-github-workflow-trigger", j.event, "pull_request"},
		{"--certificate-github-workflow-sha", j.sha, randomHex(t, 20)},
	} {
		t.Run(strings.TrimPrefix(c.flag, "--certificate-github-workflow-"), func(t *testing.T) {
			if code, out := verifyExit(t, r, append(base, c.flag, c.good)...); code != 0 {
				t.Errorf("%s %s: exit %d, want 0\n%s", c.flag, c.good, code, out)
			}
			code, out := verifyExit(t, r, append(base, c.flag, c.bad)...)
			if code != 1 || !strings.Contains(out, "not accepted by") {
				t.Errorf("%s %s: exit %d, want 1 with \"not accepted by\"\n%s", c.flag, c.bad, code, out)
			}
		})
	}

	t.Run("allowed-signers", func(t *testing.T) {
		file := func(lines ...string) string {
			p := filepath.Join(t.TempDir(), "allowed_signers")
			if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		repoURL := "https://github.com/" + j.repository
		good := file(
			"# the release workflow, on its tags",
			j.san()+" "+issuer+" source-repository-uri="+repoURL+",source-repository-ref="+j.ref+",source-repository-digest="+j.sha+",build-trigger="+j.event,
		)
		if code, out := verifyExit(t, r, "--allowed-signers", good); code != 0 {
			t.Errorf("allowed signers with the job's claims: exit %d, want 0\n%s", code, out)
		}
		wildcard := file("https://github.com/" + j.repository + "/.github/workflows/release.yml@refs/tags/* " + issuer + " github-workflow-repository=" + j.repository)
		if code, out := verifyExit(t, r, "--allowed-signers", wildcard); code != 0 {
			t.Errorf("allowed signers with a pattern for every tag: exit %d, want 0\n%s", code, out)
		}
		for name, line := range map[string]string{
			"ref":        j.san() + " " + issuer + " source-repository-uri=" + repoURL + ",source-repository-ref=refs/heads/main",
			"repository": j.san() + " " + issuer + " source-repository-uri=https://github.com/octo-org/gadget",
			"trigger":    j.san() + " " + issuer + " build-trigger=workflow_dispatch",
			"issuer":     j.san() + " " + stackEnv(t, "GITSIGN_OIDC_ISSUER"),
		} {
			code, out := verifyExit(t, r, "--allowed-signers", file(line))
			if code != 1 || !strings.Contains(out, "not accepted by") {
				t.Errorf("allowed signers with another %s: exit %d, want 1 with \"not accepted by\"\n%s", name, code, out)
			}
		}
	})
}

// TestActionsTokenRefused: the job's token service or Fulcio refusing
// fails the signature, and no commit is made.
func TestActionsTokenRefused(t *testing.T) {
	j := newActionsJob(t, "octo-org/widget", "refs/heads/main", ".github/workflows/ci.yml", "CI", "push")

	// A request token the service does not know (a job that has ended).
	r := loginRepo(t, "ACTIONS_ID_TOKEN_REQUEST_URL="+j.requestURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=job-"+randomHex(t, 24))
	mustFail(t, r, "the GitHub Actions token service at "+j.requestURL)

	// A token for another audience: the service hands it out, Fulcio,
	// whose client id is sigstore, refuses it.
	r = loginRepo(t, append(j.env(), "GITSIGN_OIDC_CLIENT_ID=other-client")...)
	mustFail(t, r, "fulcio refused the certificate request (400)")
	if strings.Contains(r.readLog(), j.requestToken) {
		t.Error("the log holds the job's request token")
	}
}

// TestActionsDefaultJob: the stack's default job
// (GITSIGN_LOCAL_ACTIONS_REQUEST_URL/_TOKEN, printed by
// `hack/sigstore-local env`) signs as acme/app's release workflow on main.
func TestActionsDefaultJob(t *testing.T) {
	r := loginRepo(t, "ACTIONS_ID_TOKEN_REQUEST_URL="+stackEnv(t, "GITSIGN_LOCAL_ACTIONS_REQUEST_URL"),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN="+stackEnv(t, "GITSIGN_LOCAL_ACTIONS_REQUEST_TOKEN"))
	r.commit("default job")
	sum := ciSignature(t, r, "HEAD")
	if want := "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"; sum.SubjectAlternativeName != want {
		t.Errorf("SAN %q, want %q", sum.SubjectAlternativeName, want)
	}
	if sum.Extensions.SourceRepositoryRef != "refs/heads/main" || sum.Extensions.GithubWorkflowRepository != "acme/app" {
		t.Errorf("extensions %+v", sum.Extensions)
	}
}
