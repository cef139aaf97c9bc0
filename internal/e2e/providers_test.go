//go:build e2e

package e2e

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
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

// The provider tests sign as a Buildkite job step and as a Google Cloud
// workload do, with gitsign's buildkite-agent and google-workload-identity
// token providers, through the stack's real Fulcio and Rekor. The tokens
// come from the stack's Buildkite- and Google-shaped issuers
// (hack/sigstore-local.d/actions), which Fulcio trusts as the public
// instance trusts Buildkite's and Google's: what the agent and the
// metadata server would be is played by stand-ins speaking their
// protocols.

// mintToken asks one of the stack's workload issuers (issuer, e.g.
// $GITSIGN_LOCAL_GOOGLE_ISSUER) for a token: GET /mint with params.
func mintToken(issuer string, params url.Values) (string, error) {
	resp, err := http.Get(issuer + "/mint?" + params.Encode())
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Value, Message string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("the issuer answered HTTP %d: %v", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || out.Value == "" {
		return "", fmt.Errorf("the issuer answered HTTP %d: %s", resp.StatusCode, out.Message)
	}
	return out.Value, nil
}

// signedCert reads the commit at rev: its signature parses, carries only
// its leaf, verifies with openssl over the commit and chains to the
// stack's Fulcio root; the certificate is returned with its summary.
func signedCert(t *testing.T, r *repo, rev string) (*signed, certificate.Summary) {
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
	if n := len(p.SignedData.Certificates); n != 1 {
		t.Errorf("signature carries %d certificates, want only the leaf", n)
	}
	s := &signed{id: id, typ: "commit", payload: payload, pem: sigPEM, si: p.Signer, cert: p.Cert}
	s.opensslVerify(t)
	sum, err := certificate.SummarizeCertificate(p.Cert)
	if err != nil {
		t.Fatalf("commit %s: summarizing the certificate: %v", id, err)
	}
	return s, sum
}

// signDirect runs gitsign as git does to sign a commit, with r's
// environment, and returns its stdout, its stderr without the status
// lines, and its exit code.
func signDirect(t *testing.T, r *repo) (string, []string, int) {
	t.Helper()
	cmd := exec.Command(gitsignBin, "--status-fd=2", "-bsau", "Alice <alice@example.test>")
	cmd.Dir, cmd.Env = r.dir, r.env
	cmd.Stdin = strings.NewReader("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nm\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running gitsign: %v", err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" && !strings.HasPrefix(l, "[GNUPG:] ") {
			lines = append(lines, l)
		}
	}
	return stdout.String(), lines, code
}

// failsOneLine checks that signing fails both through git (mustFail: no
// commit, want in the log) and when gitsign is run directly: exit status
// 1, nothing on stdout, no SIG_CREATED, and on stderr one line of error,
// saying want, and at most hints after it.
func failsOneLine(t *testing.T, r *repo, want string) {
	t.Helper()
	mustFail(t, r, want)
	if n := strings.Count(r.readLog(), "gitsign: error: "); n != 1 {
		t.Errorf("the log has %d errors, want 1:\n%s", n, r.readLog())
	}
	stdout, lines, code := signDirect(t, r)
	if code != 1 || stdout != "" {
		t.Errorf("gitsign: exit %d, stdout %q; want 1 and nothing", code, stdout)
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "gitsign: error: ") || !strings.Contains(lines[0], want) {
		t.Errorf("gitsign's stderr %q, want a line \"gitsign: error: ...%s...\"", lines, want)
	}
	for _, l := range lines[min(1, len(lines)):] {
		if !strings.HasPrefix(l, "gitsign: hint: ") {
			t.Errorf("gitsign's stderr has %q after its error, want only hints", l)
		}
	}
}

// buildkiteJob is a job at the stack's Buildkite issuer: what its tokens
// claim, and what the agent running it is given.
type buildkiteJob struct {
	organization, pipeline, commit, jobID string
	buildNumber                           int
	endpoint, accessToken                 string
}

// san is the certificate identity Fulcio gives the job's pipeline.
func (j *buildkiteJob) san() string {
	return "https://buildkite.com/" + j.organization + "/" + j.pipeline
}

// env is what the agent sets in a job's steps.
func (j *buildkiteJob) env() []string {
	return []string{"BUILDKITE=true", "BUILDKITE_AGENT_ENDPOINT=" + j.endpoint, "BUILDKITE_JOB_ID=" + j.jobID,
		"BUILDKITE_AGENT_ACCESS_TOKEN=" + j.accessToken, "BUILDKITE_ORGANIZATION_SLUG=" + j.organization,
		"BUILDKITE_PIPELINE_SLUG=" + j.pipeline, "BUILDKITE_COMMIT=" + j.commit}
}

// newBuildkiteJob starts a job at the Buildkite issuer (POST /jobs).
func newBuildkiteJob(t *testing.T, organization, pipeline, branch string) *buildkiteJob {
	t.Helper()
	j := &buildkiteJob{organization: organization, pipeline: pipeline, commit: randomHex(t, 20)}
	form := url.Values{"organization": {organization}, "pipeline": {pipeline}, "branch": {branch},
		"commit": {j.commit}, "step_key": {"sign"}, "build_source": {"webhook"}}
	resp, err := http.PostForm(stackEnv(t, "GITSIGN_LOCAL_BUILDKITE_ISSUER")+"/jobs", form)
	if err != nil {
		t.Fatalf("creating a job at the Buildkite issuer: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Endpoint    string `json:"endpoint"`
		JobID       string `json:"job_id"`
		AccessToken string `json:"access_token"`
		BuildNumber int    `json:"build_number"`
		Message     string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating a job at the Buildkite issuer: HTTP %d %v %s", resp.StatusCode, err, out.Message)
	}
	j.endpoint, j.jobID, j.accessToken, j.buildNumber = out.Endpoint, out.JobID, out.AccessToken, out.BuildNumber
	return j
}

// buildkiteAgentScript is a stand-in for the Buildkite agent's command
// line tool: `buildkite-agent oidc request-token [--audience AUD]
// [--lifetime N]` asks the agent API (BUILDKITE_AGENT_ENDPOINT, default
// Buildkite's) for the token of job BUILDKITE_JOB_ID, authorized by
// BUILDKITE_AGENT_ACCESS_TOKEN, and prints it, as the real agent does;
// a refusal or anything else is a "fatal:" line on stderr and status 1
// (the real agent also logs each retry before it). Each call is
// appended to CALLS: its arguments, then its standard input.
const buildkiteAgentScript = `#!/bin/sh
printf '%s\nstdin=%s\n' "$*" "$(readlink /proc/$$/fd/0)" >>'CALLS'
fatal() { echo "fatal: $*" >&2; exit 1; }
[ "$1 $2" = "oidc request-token" ] || fatal "this stand-in only knows 'oidc request-token', not '$*'"
shift 2
aud= lifetime=0
while [ $# -gt 0 ]; do
	case $1 in
	--audience | --lifetime)
		[ $# -ge 2 ] || fatal "flag needs an argument: $1"
		if [ "$1" = --audience ]; then aud=$2; else lifetime=$2; fi
		shift 2 ;;
	--audience=*) aud=${1#*=}; shift ;;
	--lifetime=*) lifetime=${1#*=}; shift ;;
	*) fatal "flag provided but not defined: $1" ;;
	esac
done
[ -n "${BUILDKITE_JOB_ID:-}" ] || fatal "missing job: set --job or BUILDKITE_JOB_ID"
[ -n "${BUILDKITE_AGENT_ACCESS_TOKEN:-}" ] || fatal "missing agent access token: set BUILDKITE_AGENT_ACCESS_TOKEN"
url="${BUILDKITE_AGENT_ENDPOINT:-https://agent.buildkite.com/v3}/jobs/$BUILDKITE_JOB_ID/oidc/tokens"
body=$(jq -cn --arg a "$aud" --argjson l "$lifetime" '{audience: $a, lifetime: $l} | with_entries(select(.value != "" and .value != 0))') ||
	fatal "lifetime $lifetime must be a non-negative integer."
out=$(curl -sS -m 10 -X POST -H "Authorization: Token $BUILDKITE_AGENT_ACCESS_TOKEN" -H 'Content-Type: application/json' \
	--data "$body" -w '\n%{http_code}' "$url" 2>&1) || fatal "POST $url: $out"
code=${out##*
}
out=${out%
*}
case $code in
2??) printf '%s\n' "$(printf '%s' "$out" | jq -r .token)" ;;
*)
	echo "$(date '+%Y-%m-%d %H:%M:%S') ERROR  Could not obtain OIDC token for audience ${aud:-(default)}" >&2
	fatal "POST $url: $code $(printf '%s' "$out" | jq -r '.message // empty' 2>/dev/null)" ;;
esac
`

// buildkiteAgent writes the stand-in into a fresh directory and returns
// the directory (for PATH) and the file its calls are logged to.
func buildkiteAgent(t *testing.T) (dir, calls string) {
	t.Helper()
	for _, c := range []string{"curl", "jq"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Fatalf("the buildkite-agent stand-in needs %s (hack/sigstore-local installs it): %v", c, err)
		}
	}
	dir = t.TempDir()
	calls = filepath.Join(dir, "calls")
	script := strings.Replace(buildkiteAgentScript, "'CALLS'", "'"+calls+"'", 1)
	if err := os.WriteFile(filepath.Join(dir, "buildkite-agent"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, calls
}

// onPath is PATH with dir first.
func onPath(dir string) string {
	return "PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

func readCalls(t *testing.T, calls string) []string {
	t.Helper()
	b, err := os.ReadFile(calls)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestProviderBuildkite: in a Buildkite job step (the agent's variables
// set, buildkite-agent on PATH, gitsign.tokenProvider buildkite-agent)
// `git commit -S` signs as the job's pipeline: gitsign runs
// `buildkite-agent oidc request-token --audience sigstore`, the agent asks
// the stack's agent API for the job's token, Fulcio makes the pipeline's
// URI the certificate's identity with the job's claims as extensions, and
// gitsign verify accepts the pipeline and refuses any other.
func TestProviderBuildkite(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_LOCAL_BUILDKITE_ISSUER")
	j := newBuildkiteJob(t, "octo-org", "widget", "main")
	agentDir, calls := buildkiteAgent(t)
	r := loginRepo(t, append(j.env(), onPath(agentDir))...)
	r.git("config", "gitsign.tokenProvider", "buildkite-agent")

	r.commit("built on Buildkite")
	s, sum := signedCert(t, r, "HEAD")
	if got := readCalls(t, calls); len(got) != 2 || got[0] != "oidc request-token --audience sigstore" || got[1] != "stdin=/dev/null" {
		t.Errorf("buildkite-agent was run as %q, want once as \"oidc request-token --audience sigstore\" with no input", got)
	}
	if len(s.cert.EmailAddresses) != 0 || len(s.cert.URIs) != 1 {
		t.Errorf("certificate names emails %v and URIs %v, want the pipeline's URI only", s.cert.EmailAddresses, s.cert.URIs)
	}
	sub := "organization:octo-org:pipeline:widget:ref:refs/heads/main:commit:" + j.commit + ":step:sign"
	e := sum.Extensions
	for _, c := range []struct{ name, got, want string }{
		{"SAN", sum.SubjectAlternativeName, j.san()},
		{"issuer (1.8)", e.Issuer, issuer},
		{"runner-environment (1.11)", e.RunnerEnvironment, "self-hosted"},
		{"source-repository-digest (1.13)", e.SourceRepositoryDigest, j.commit},
		{"build-trigger (1.20)", e.BuildTrigger, "webhook"},
		{"run-invocation-uri (1.21)", e.RunInvocationURI, fmt.Sprintf("%s/builds/%d#%s", j.san(), j.buildNumber, j.jobID)},
	} {
		if c.got != c.want {
			t.Errorf("certificate %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	// The token's subject (the job) is in the certificate too, in
	// extension 1.3.6.1.4.1.57264.1.24 (a DER UTF8String).
	if !bytes.Contains(extValue(s.cert, "1.3.6.1.4.1.57264.1.24"), []byte(sub)) {
		t.Errorf("certificate subject extension (1.24) does not hold %q", sub)
	}
	log := r.readLog()
	if !strings.Contains(log, "signed as "+j.san()+" (issuer "+issuer+")") {
		t.Errorf("the log does not say the pipeline signed:\n%s", log)
	}
	if strings.Contains(log, j.accessToken) {
		t.Error("the log holds the agent's access token")
	}

	base := []string{"--certificate-identity", j.san(), "--certificate-oidc-issuer", issuer}
	if code, out := verifyExit(t, r, base...); code != 0 {
		t.Fatalf("gitsign verify as the pipeline: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"pipeline", []string{"--certificate-identity", "https://buildkite.com/octo-org/gadget", "--certificate-oidc-issuer", issuer}},
		{"organization", []string{"--certificate-identity", "https://buildkite.com/other-org/widget", "--certificate-oidc-issuer", issuer}},
		{"issuer (GitHub Actions')", []string{"--certificate-identity", j.san(), "--certificate-oidc-issuer", stackEnv(t, "GITSIGN_LOCAL_ACTIONS_ISSUER")}},
		{"issuer (Buildkite's own)", []string{"--certificate-identity", j.san(), "--certificate-oidc-issuer", "https://agent.buildkite.com"}},
	} {
		code, out := verifyExit(t, r, c.args...)
		if code != 1 || !strings.Contains(out, "not accepted by") {
			t.Errorf("gitsign verify with another %s: exit %d, want 1 with \"not accepted by\"\n%s", c.name, code, out)
		}
	}
	// A pattern for every pipeline of the organization.
	if code, out := verifyExit(t, r, "--certificate-identity-regexp", `https://buildkite\.com/octo-org/.*`, "--certificate-oidc-issuer", issuer); code != 0 {
		t.Errorf("gitsign verify with the organization's pattern: exit %d\n%s", code, out)
	}
	if code, out := verifyExit(t, r, "--certificate-identity-regexp", `https://buildkite\.com/acme/.*`, "--certificate-oidc-issuer", issuer); code != 1 {
		t.Errorf("gitsign verify with another organization's pattern: exit %d, want 1\n%s", code, out)
	}

	t.Run("agent refused", func(t *testing.T) {
		// The agent API refuses a wrong access token (another job's, say):
		// the agent exits 1 with its error, which gitsign reports, and no
		// commit is made.
		agentDir, calls := buildkiteAgent(t)
		env := append(j.env(), onPath(agentDir), "BUILDKITE_AGENT_ACCESS_TOKEN=bkaj_"+randomHex(t, 24))
		r := loginRepo(t, env...)
		r.git("config", "gitsign.tokenProvider", "buildkite-agent")
		tokens := j.endpoint + "/jobs/" + j.jobID + "/oidc/tokens"
		failsOneLine(t, r, `buildkite-agent: buildkite-agent oidc request-token --audience "sigstore" exited with status 1: fatal: POST `+tokens+": 401 Unauthorized")
		if got := readCalls(t, calls); len(got) != 4 {
			t.Errorf("buildkite-agent calls %q, want two", got)
		}
	})
	t.Run("no agent", func(t *testing.T) {
		if p, err := exec.LookPath("buildkite-agent"); err == nil {
			t.Skipf("a buildkite-agent is installed here (%s)", p)
		}
		r := loginRepo(t, j.env()...)
		r.git("config", "gitsign.tokenProvider", "buildkite-agent")
		failsOneLine(t, r, "the buildkite-agent command is not found on PATH")
	})
	t.Run("not a job", func(t *testing.T) {
		agentDir, calls := buildkiteAgent(t)
		r := loginRepo(t, onPath(agentDir), "BUILDKITE_AGENT_ACCESS_TOKEN=", "BUILDKITE_JOB_ID=")
		r.git("config", "gitsign.tokenProvider", "buildkite-agent")
		failsOneLine(t, r, "not in a Buildkite job: BUILDKITE_AGENT_ACCESS_TOKEN is not set")
		if got := readCalls(t, calls); len(got) != 1 || got[0] != "" {
			t.Errorf("buildkite-agent was run outside a job: %q", got)
		}
	})
	t.Run("fulcio refuses the audience", func(t *testing.T) {
		// The client ID is the audience the agent is asked for; Fulcio,
		// whose client ID is sigstore, refuses a token for another.
		agentDir, calls := buildkiteAgent(t)
		r := loginRepo(t, append(j.env(), onPath(agentDir), "GITSIGN_OIDC_CLIENT_ID=other-client")...)
		r.git("config", "gitsign.tokenProvider", "buildkite-agent")
		failsOneLine(t, r, "fulcio refused the certificate request (400)")
		if got := readCalls(t, calls); got[0] != "oidc request-token --audience other-client" {
			t.Errorf("buildkite-agent was run as %q", got[0])
		}
	})
}

// extValue is the value of cert's extension oid, or nil.
func extValue(cert *x509.Certificate, oid string) []byte {
	for _, e := range cert.Extensions {
		if e.Id.String() == oid {
			return e.Value
		}
	}
	return nil
}

// workloadToken is a token from one of the stack's workload issuers:
// kind is BUILDKITE, GOOGLE or SPIFFE (the issuer's URL is
// $GITSIGN_LOCAL_<kind>_ISSUER), params the /mint parameters that
// hack/sigstore-local.d/README.md lists. A test's stand-ins for a
// provider's service (a SPIFFE Workload API, the IAM Credentials API) can
// hand such tokens out; from a handler, call mintToken with the issuer's
// URL instead, since a handler must not fail the test.
func workloadToken(t *testing.T, kind string, params url.Values) string {
	t.Helper()
	tok, err := mintToken(stackEnv(t, "GITSIGN_LOCAL_"+kind+"_ISSUER"), params)
	if err != nil {
		t.Fatalf("a token from the stack's %s issuer: %v", strings.ToLower(kind), err)
	}
	return tok
}

// TestStackSpiffeIssuer: a JWT-SVID of the stack's SPIFFE trust domain
// signs (given as SIGSTORE_ID_TOKEN, as a spiffe provider would get it
// from the Workload API) with the SPIFFE ID as the certificate's URI
// identity; one of another trust domain is refused by Fulcio. This is
// the stack's side of a spiffe provider's end-to-end test.
func TestStackSpiffeIssuer(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_LOCAL_SPIFFE_ISSUER")
	id := "spiffe://" + stackEnv(t, "GITSIGN_LOCAL_SPIFFE_TRUST_DOMAIN") + "/ns/ci/sa/release"
	r := loginRepo(t, "SIGSTORE_ID_TOKEN="+workloadToken(t, "SPIFFE", url.Values{"spiffe_id": {id}}))
	r.commit("signed by a SPIFFE workload")
	s, sum := signedCert(t, r, "HEAD")
	if sum.SubjectAlternativeName != id || sum.Extensions.Issuer != issuer || len(s.cert.EmailAddresses) != 0 {
		t.Errorf("certificate SAN %q, issuer %q, emails %v; want %s, %s, none", sum.SubjectAlternativeName, sum.Extensions.Issuer, s.cert.EmailAddresses, id, issuer)
	}
	if code, out := verifyExit(t, r, "--certificate-identity", id, "--certificate-oidc-issuer", issuer); code != 0 {
		t.Errorf("gitsign verify as the SPIFFE ID: exit %d\n%s", code, out)
	}
	if code, out := verifyExit(t, r, "--certificate-identity", id+"x", "--certificate-oidc-issuer", issuer); code != 1 {
		t.Errorf("gitsign verify as another SPIFFE ID: exit %d, want 1\n%s", code, out)
	}

	foreign := workloadToken(t, "SPIFFE", url.Values{"spiffe_id": {"spiffe://other.test/ns/ci/sa/release"}})
	failsOneLine(t, loginRepo(t, "SIGSTORE_ID_TOKEN="+foreign), "fulcio refused the certificate request (400)")
}
