package main

// This file is the Buildkite-shaped issuer: tokens with the claims of a
// Buildkite job, as the agent API signs them for `buildkite-agent oidc
// request-token`. Fulcio's buildkite-job metadata (the public instance's)
// makes the certificate's URI SAN https://buildkite.com/ORG/PIPELINE.
//
// Endpoints (besides discovery, /.well-known/jwks and /healthz):
//
//	GET  /mint?PARAMS                      {"value": JWT} (audience default sigstore)
//	POST /jobs?PARAMS                      a new job: {"endpoint": URL/v3, "job_id": UUID,
//	                                       "access_token": TOKEN, "sub": ..., "build_number": N}
//	POST /v3/jobs/JOB_ID/oidc/tokens       the agent API: "Authorization: Token TOKEN", body
//	                                       {"audience": AUD, "lifetime": SECONDS} (both optional;
//	                                       no audience gives https://buildkite.com/ORG); answers
//	                                       {"token": JWT}, or {"message": ...} with 401 (no or a
//	                                       wrong access token), 404 (no such job), 400 or 422
//
// PARAMS (all optional): organization (slug, default acme), pipeline
// (slug, default app), branch (main), tag (none; then the sub's ref is
// refs/tags/TAG), commit (40 hex digits; default derived from the
// others), step_key (sign), build_number (default a fresh one),
// build_source (webhook; api, ui, trigger_job, schedule),
// runner_environment (self-hosted or buildkite-hosted), ttl (seconds, 300,
// Buildkite's default) and, for /mint, audience.

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	bkDefaultTTL = 300 * time.Second // Buildkite's default lifetime: 5 minutes
	bkMaxBody    = 64 << 10
)

// bkClaims are a Buildkite OIDC token's claims, in the order Buildkite
// documents them.
type bkClaims struct {
	Iss               string `json:"iss"`
	Sub               string `json:"sub"`
	Aud               string `json:"aud"`
	Iat               int64  `json:"iat"`
	Nbf               int64  `json:"nbf"`
	Exp               int64  `json:"exp"`
	OrganizationSlug  string `json:"organization_slug"`
	PipelineSlug      string `json:"pipeline_slug"`
	BuildNumber       int    `json:"build_number"`
	BuildBranch       string `json:"build_branch"`
	BuildTag          string `json:"build_tag,omitempty"`
	BuildCommit       string `json:"build_commit"`
	BuildSource       string `json:"build_source"`
	StepKey           string `json:"step_key"`
	JobID             string `json:"job_id"`
	AgentID           string `json:"agent_id"`
	RunnerEnvironment string `json:"runner_environment"`
}

// bkJob is a Buildkite job: what its tokens claim, and the agent access
// token that may ask for them.
type bkJob struct {
	Organization, Pipeline string
	BuildNumber            int
	Branch, Tag, Commit    string
	StepKey, Source        string
	RunnerEnvironment      string
	JobID, AgentID         string
	AccessToken            string
	TTL                    time.Duration
}

// ref is the build's ref as the sub claim names it.
func (j *bkJob) ref() string {
	if j.Tag != "" {
		return "refs/tags/" + j.Tag
	}
	return "refs/heads/" + j.Branch
}

func (j *bkJob) subject() string {
	return "organization:" + j.Organization + ":pipeline:" + j.Pipeline + ":ref:" + j.ref() +
		":commit:" + j.Commit + ":step:" + j.StepKey
}

var (
	slugRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,99}$`)
	bkRefRE   = regexp.MustCompile(`^[^\s:\x00-\x1f\x7f]{1,200}$`)
	stepKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)
	uuidRE    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

var bkParams = map[string]bool{
	"organization": true, "pipeline": true, "build_number": true, "branch": true, "tag": true,
	"commit": true, "step_key": true, "build_source": true, "runner_environment": true, "ttl": true,
}

// uuid4 is a random version 4 UUID, as Buildkite names jobs and agents.
func uuid4() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// parseBKJob reads a job from request parameters; extra names the
// parameters the endpoint takes besides the job's.
func parseBKJob(v url.Values, extra ...string) (*bkJob, error) {
	get, err := checkParams(v, bkParams, extra)
	if err != nil {
		return nil, err
	}
	j := &bkJob{
		Organization:      get("organization", "acme"),
		Pipeline:          get("pipeline", "app"),
		Branch:            get("branch", "main"),
		Tag:               v.Get("tag"),
		StepKey:           get("step_key", "sign"),
		Source:            get("build_source", "webhook"),
		RunnerEnvironment: get("runner_environment", "self-hosted"),
		TTL:               bkDefaultTTL,
	}
	sum := sha1.Sum([]byte(j.Organization + "/" + j.Pipeline + "\x00" + j.ref()))
	j.Commit = get("commit", hex.EncodeToString(sum[:]))
	for _, c := range []struct {
		name, value string
		re          *regexp.Regexp
	}{
		{"organization", j.Organization, slugRE},
		{"pipeline", j.Pipeline, slugRE},
		{"branch", j.Branch, bkRefRE},
		{"commit", j.Commit, shaRE},
		{"step_key", j.StepKey, stepKeyRE},
	} {
		if !c.re.MatchString(c.value) {
			return nil, fmt.Errorf("bad %s %q", c.name, c.value)
		}
	}
	if j.Tag != "" && !bkRefRE.MatchString(j.Tag) {
		return nil, fmt.Errorf("bad tag %q", j.Tag)
	}
	switch j.Source {
	case "api", "ui", "webhook", "trigger_job", "schedule":
	default:
		return nil, fmt.Errorf("bad build_source %q (api, ui, webhook, trigger_job or schedule)", j.Source)
	}
	switch j.RunnerEnvironment {
	case "self-hosted", "buildkite-hosted":
	default:
		return nil, fmt.Errorf("bad runner_environment %q (self-hosted or buildkite-hosted)", j.RunnerEnvironment)
	}
	if s := v.Get("build_number"); s != "" {
		if !digitsRE.MatchString(s) {
			return nil, fmt.Errorf("bad build_number %q", s)
		}
		j.BuildNumber, _ = strconv.Atoi(s)
	}
	if s := v.Get("ttl"); s != "" {
		d, err := parseTTL(s)
		if err != nil {
			return nil, err
		}
		j.TTL = d
	}
	return j, nil
}

// parseTTL reads a lifetime in seconds, 1 to maxTTL.
func parseTTL(s string) (time.Duration, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || time.Duration(n)*time.Second > maxTTL {
		return 0, fmt.Errorf("bad ttl %q (seconds, 1 to %d)", s, int(maxTTL.Seconds()))
	}
	return time.Duration(n) * time.Second, nil
}

type buildkiteIssuer struct {
	key    *signingKey
	builds atomic.Int64
	mu     sync.Mutex
	jobs   map[string]*bkJob // by job ID
	order  []string          // job IDs, oldest first (the first one is kept)
	now    func() time.Time
	logger *log.Logger
}

func newBuildkiteIssuer(issuerURL string, logger *log.Logger) (*buildkiteIssuer, error) {
	key, err := newSigningKey(issuerURL, "RS256")
	if err != nil {
		return nil, err
	}
	b := &buildkiteIssuer{key: key, jobs: map[string]*bkJob{}, now: time.Now, logger: logger}
	b.builds.Store(time.Now().Unix() % 100_000)
	return b, nil
}

// start gives j its IDs (jobID and accessToken when not empty, else fresh
// ones) and a build number when it has none.
func (b *buildkiteIssuer) start(j *bkJob, jobID, accessToken string) error {
	var err error
	if jobID == "" {
		if jobID, err = uuid4(); err != nil {
			return err
		}
	}
	if accessToken == "" {
		t := make([]byte, 24)
		if _, err := rand.Read(t); err != nil {
			return err
		}
		accessToken = "bkaj_" + hex.EncodeToString(t)
	}
	if j.AgentID, err = uuid4(); err != nil {
		return err
	}
	if j.BuildNumber == 0 {
		j.BuildNumber = int(b.builds.Add(1))
	}
	j.JobID, j.AccessToken = jobID, accessToken
	return nil
}

// addJob starts j and registers it for the agent API.
func (b *buildkiteIssuer) addJob(j *bkJob, jobID, accessToken string) error {
	if err := b.start(j, jobID, accessToken); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.jobs[j.JobID]; !ok {
		b.order = append(b.order, j.JobID)
	}
	b.jobs[j.JobID] = j
	if len(b.order) > maxJobs {
		delete(b.jobs, b.order[1])
		b.order = append(b.order[:1], b.order[2:]...)
	}
	return nil
}

func (b *buildkiteIssuer) job(id string) (*bkJob, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j, ok := b.jobs[id]
	return j, ok
}

func (b *buildkiteIssuer) mint(j *bkJob, aud string, ttl time.Duration, via string) (string, error) {
	now := b.now()
	c := &bkClaims{
		Iss: b.key.url, Sub: j.subject(), Aud: aud,
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(ttl).Unix(),
		OrganizationSlug: j.Organization, PipelineSlug: j.Pipeline, BuildNumber: j.BuildNumber,
		BuildBranch: j.Branch, BuildTag: j.Tag, BuildCommit: j.Commit, BuildSource: j.Source,
		StepKey: j.StepKey, JobID: j.JobID, AgentID: j.AgentID, RunnerEnvironment: j.RunnerEnvironment,
	}
	tok, err := b.key.sign(c)
	if err == nil {
		b.logger.Printf("buildkite: minted (%s) sub=%s aud=%s job=%s ttl=%s", via, c.Sub, c.Aud, c.JobID, ttl)
	}
	return tok, err
}

func (b *buildkiteIssuer) handler() http.Handler {
	mux := http.NewServeMux()
	b.key.publish(mux, "/.well-known/jwks", []string{"iss", "sub", "aud", "iat", "nbf", "exp",
		"organization_slug", "pipeline_slug", "build_number", "build_branch", "build_tag", "build_commit",
		"build_source", "step_key", "job_id", "agent_id", "runner_environment"}, nil)
	mux.HandleFunc("/mint", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		v, err := params(r)
		if err == nil && v.Has("audience") && v.Get("audience") == "" {
			err = fmt.Errorf("empty audience")
		}
		var j *bkJob
		if err == nil {
			j, err = parseBKJob(v, "audience")
		}
		if err == nil {
			err = b.start(j, "", "")
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		aud := v.Get("audience")
		if aud == "" {
			aud = "sigstore"
		}
		tok, err := b.mint(j, aud, j.TTL, "mint")
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"value": tok})
	})
	mux.HandleFunc("POST /jobs", func(w http.ResponseWriter, r *http.Request) {
		v, err := params(r)
		var j *bkJob
		if err == nil {
			j, err = parseBKJob(v)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := b.addJob(j, "", ""); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		b.logger.Printf("buildkite: job %s: %s/%s build %d", j.JobID, j.Organization, j.Pipeline, j.BuildNumber)
		writeJSON(w, http.StatusCreated, map[string]any{
			"endpoint":     b.key.url + "/v3",
			"job_id":       j.JobID,
			"access_token": j.AccessToken,
			"sub":          j.subject(),
			"build_number": j.BuildNumber,
		})
	})
	// The agent API's token request, as buildkite-agent oidc request-token
	// makes it: a JSON body with the audience and lifetime, both optional.
	// Errors are {"message": ...}, as Buildkite's API answers them.
	mux.HandleFunc("POST /v3/jobs/{id}/oidc/tokens", func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		j, ok := b.job(r.PathValue("id"))
		switch {
		case !strings.EqualFold(scheme, "token") || strings.TrimSpace(tok) == "":
			writeError(w, http.StatusUnauthorized, "Unauthorized")
			return
		case !ok:
			writeError(w, http.StatusNotFound, "No job found")
			return
		case strings.TrimSpace(tok) != j.AccessToken:
			b.logger.Printf("buildkite: job %s: refused a wrong access token", j.JobID)
			writeError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		var req struct {
			Audience string `json:"audience"`
			Lifetime int    `json:"lifetime"`
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, bkMaxBody))
		if err == nil && len(strings.TrimSpace(string(body))) > 0 {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "Invalid JSON body")
			return
		}
		if req.Lifetime < 0 || time.Duration(req.Lifetime)*time.Second > maxTTL {
			writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Lifetime %d is out of range", req.Lifetime))
			return
		}
		aud, ttl := req.Audience, j.TTL
		if aud == "" {
			aud = "https://buildkite.com/" + j.Organization
		}
		if req.Lifetime > 0 {
			ttl = time.Duration(req.Lifetime) * time.Second
		}
		jwt, err := b.mint(j, aud, ttl, "agent")
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"token": jwt})
	})
	return mux
}

// validJobID reports whether id has the shape of a Buildkite job ID.
func validJobID(id string) bool { return uuidRE.MatchString(id) }
