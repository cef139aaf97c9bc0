// Command actions is the local stand-in for GitHub Actions' OIDC issuer, run
// by hack/sigstore-local as its second issuer, and for three more workload
// issuers on ports of their own: Buildkite's (buildkite.go), Google's
// service account tokens (google.go) and a SPIFFE trust domain's JWT-SVIDs
// (spiffe.go). TEST STACK ONLY: it signs whatever claims it is asked for.
//
// It mints RS256 ID tokens with the claims of a GitHub Actions job (sub
// repo:OWNER/REPO:ref:REF, repository, ref, sha, workflow_ref,
// job_workflow_ref, event_name, runner_environment, ...), which the stack's
// Fulcio turns into certificates with the 1.3.6.1.4.1.57264.1.* extensions,
// and it answers as a job's token request service does, so that a client
// reading ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN
// works unchanged.
//
// Usage:
//
//	actions [-addr 127.0.0.1:5558] [-issuer URL] [-request-token TOKEN]
//		[-buildkite-addr ADDR [-buildkite-issuer URL]
//		 [-buildkite-job-id UUID -buildkite-access-token TOKEN]]
//		[-google-addr ADDR [-google-issuer URL]]
//		[-spiffe-addr ADDR [-spiffe-issuer URL] [-spiffe-trust-domain example.test]]
//
// Each issuer has a signing key of its own, fresh on every start, and
// serves discovery, its JWKS, GET /mint?PARAMS ({"value": JWT}; POST with
// a form works too) and /healthz; the three others' parameters are
// described in their files and in hack/sigstore-local.d/README.md. The
// rest of this comment is about the GitHub Actions issuer.
//
// Endpoints:
//
//	GET  /.well-known/openid-configuration   discovery
//	GET  /.well-known/jwks                   the signing key (fresh on every start)
//	GET  /mint?PARAMS                        {"value": JWT} for the harness (POST with a form works too)
//	POST /jobs?PARAMS                        a new job: {"request_url": URL, "request_token": TOKEN}
//	GET  /actions/token?audience=AUD         the job's token: needs "Authorization: bearer TOKEN";
//	                                         answers {"value": JWT} like GitHub's service
//	GET  /healthz                            ok
//
// PARAMS (all optional) describe the job: repository (OWNER/REPO, default
// acme/app), ref (default refs/heads/main), workflow (the workflow file,
// default .github/workflows/release.yml), workflow_name (default the file
// path, as GitHub names a workflow without `name:`), event (default push),
// sha (40 hex digits, default derived from repository and ref), actor
// (default alice), environment (none by default), runner_environment
// (github-hosted or self-hosted), visibility (public, private, internal),
// job_workflow_ref (OWNER/REPO/.github/workflows/FILE@REF, for a reusable
// workflow; default the workflow itself), job_workflow_sha, run_attempt,
// head_ref, base_ref, ttl (token lifetime in seconds, default 600) and, for
// /mint only, audience (default sigstore). Unknown parameters are refused.
//
// The request token given with -request-token is a job with the defaults.
// Without an audience, /actions/token uses GitHub's default,
// https://github.com/OWNER.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	defaultTTL = 600 * time.Second
	maxTTL     = 24 * time.Hour
	maxJobs    = 10000
)

// claims are a GitHub Actions ID token's claims, in the order GitHub
// writes them.
type claims struct {
	JTI                  string `json:"jti"`
	Sub                  string `json:"sub"`
	Aud                  string `json:"aud"`
	Ref                  string `json:"ref"`
	SHA                  string `json:"sha"`
	Repository           string `json:"repository"`
	RepositoryOwner      string `json:"repository_owner"`
	RepositoryOwnerID    string `json:"repository_owner_id"`
	RunID                string `json:"run_id"`
	RunNumber            string `json:"run_number"`
	RunAttempt           string `json:"run_attempt"`
	RepositoryVisibility string `json:"repository_visibility"`
	RepositoryID         string `json:"repository_id"`
	ActorID              string `json:"actor_id"`
	Actor                string `json:"actor"`
	Workflow             string `json:"workflow"`
	HeadRef              string `json:"head_ref"`
	BaseRef              string `json:"base_ref"`
	EventName            string `json:"event_name"`
	RefProtected         string `json:"ref_protected"`
	RefType              string `json:"ref_type"`
	Environment          string `json:"environment,omitempty"`
	WorkflowRef          string `json:"workflow_ref"`
	WorkflowSHA          string `json:"workflow_sha"`
	JobWorkflowRef       string `json:"job_workflow_ref"`
	JobWorkflowSHA       string `json:"job_workflow_sha"`
	RunnerEnvironment    string `json:"runner_environment"`
	Iss                  string `json:"iss"`
	Nbf                  int64  `json:"nbf"`
	Exp                  int64  `json:"exp"`
	Iat                  int64  `json:"iat"`
}

type issuer struct {
	url    string
	key    *signingKey
	runs   atomic.Int64
	mu     sync.Mutex
	jobs   map[string]*job
	order  []string // request tokens, oldest first (the first one is kept)
	now    func() time.Time
	logger *log.Logger
}

func newIssuer(issuerURL string, logger *log.Logger) (*issuer, error) {
	key, err := newSigningKey(issuerURL, "RS256")
	if err != nil {
		return nil, err
	}
	iss := &issuer{
		url:    key.url,
		key:    key,
		jobs:   map[string]*job{},
		now:    time.Now,
		logger: logger,
	}
	iss.runs.Store(time.Now().Unix() % 1_000_000_000 * 10)
	return iss, nil
}

// addJob registers j under token (a fresh random one when empty).
func (iss *issuer) addJob(token string, j *job) (string, error) {
	if token == "" {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		token = "job-" + hex.EncodeToString(b)
	}
	iss.newRun(j)
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if _, ok := iss.jobs[token]; !ok {
		iss.order = append(iss.order, token)
	}
	iss.jobs[token] = j
	if len(iss.order) > maxJobs {
		// Forget the oldest job but the first (the -request-token one).
		delete(iss.jobs, iss.order[1])
		iss.order = append(iss.order[:1], iss.order[2:]...)
	}
	return token, nil
}

func (iss *issuer) job(token string) (*job, bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	j, ok := iss.jobs[token]
	return j, ok
}

// newRun gives j a run ID and number of its own.
func (iss *issuer) newRun(j *job) {
	n := iss.runs.Add(1)
	j.RunID = strconv.FormatInt(n, 10)
	j.RunNumber = strconv.FormatInt(n%10_000+1, 10)
}

func (iss *issuer) claims(j *job, aud string) (*claims, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return nil, err
	}
	now := iss.now()
	workflowRef := j.Repository + "/" + j.Workflow + "@" + j.Ref
	return &claims{
		JTI:                  fmt.Sprintf("%x-%x-%x-%x-%x", jti[0:4], jti[4:6], jti[6:8], jti[8:10], jti[10:]),
		Sub:                  j.subject(),
		Aud:                  aud,
		Ref:                  j.Ref,
		SHA:                  j.SHA,
		Repository:           j.Repository,
		RepositoryOwner:      j.owner(),
		RepositoryOwnerID:    numericID("owner", j.owner()),
		RunID:                j.RunID,
		RunNumber:            j.RunNumber,
		RunAttempt:           j.RunAttempt,
		RepositoryVisibility: j.Visibility,
		RepositoryID:         numericID("repository", j.Repository),
		ActorID:              numericID("owner", j.Actor),
		Actor:                j.Actor,
		Workflow:             j.WorkflowName,
		HeadRef:              j.HeadRef,
		BaseRef:              j.BaseRef,
		EventName:            j.Event,
		RefProtected:         "false",
		RefType:              j.refType(),
		Environment:          j.Environment,
		WorkflowRef:          workflowRef,
		WorkflowSHA:          j.SHA,
		JobWorkflowRef:       j.JobWorkflowRef,
		JobWorkflowSHA:       j.JobWorkflowSHA,
		RunnerEnvironment:    j.RunnerEnvironment,
		Iss:                  iss.url,
		Nbf:                  now.Add(-5 * time.Second).Unix(),
		Exp:                  now.Add(j.TTL).Unix(),
		Iat:                  now.Unix(),
	}, nil
}

func (iss *issuer) mint(j *job, aud, via string) (string, error) {
	c, err := iss.claims(j, aud)
	if err != nil {
		return "", err
	}
	tok, err := iss.key.sign(c)
	if err == nil {
		iss.logger.Printf("minted (%s) sub=%s aud=%s job_workflow_ref=%s sha=%s event=%s ttl=%s", via, c.Sub, c.Aud, c.JobWorkflowRef, c.SHA, c.EventName, j.TTL)
	}
	return tok, err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// params returns the query and, for a POST, the form parameters.
func params(r *http.Request) (url.Values, error) {
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		return r.Form, nil
	}
	return r.URL.Query(), nil
}

func (iss *issuer) handler() http.Handler {
	mux := http.NewServeMux()
	iss.key.publish(mux, "/.well-known/jwks", []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository",
		"repository_id", "repository_owner", "repository_owner_id", "run_id", "run_number", "run_attempt",
		"actor", "actor_id", "workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref", "event_name",
		"ref_type", "ref_protected", "environment", "job_workflow_ref", "job_workflow_sha",
		"repository_visibility", "runner_environment"},
		map[string]any{"subject_types_supported": []string{"public", "pairwise"}})
	mux.HandleFunc("/mint", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		v, err := params(r)
		if err == nil && v.Has("audience") && v.Get("audience") == "" {
			err = errors.New("empty audience")
		}
		var j *job
		if err == nil {
			j, err = parseJob(v, "audience")
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		aud := v.Get("audience")
		if aud == "" {
			aud = "sigstore"
		}
		iss.newRun(j)
		tok, err := iss.mint(j, aud, "mint")
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"value": tok})
	})
	mux.HandleFunc("POST /jobs", func(w http.ResponseWriter, r *http.Request) {
		v, err := params(r)
		var j *job
		if err == nil {
			j, err = parseJob(v)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		tok, err := iss.addJob("", j)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		iss.logger.Printf("job %s: %s run %s", tok[:12]+"…", j.JobWorkflowRef, j.RunID)
		writeJSON(w, http.StatusCreated, map[string]string{
			"request_url":   iss.url + "/actions/token?api-version=2.0",
			"request_token": tok,
			"sub":           j.subject(),
		})
	})
	mux.HandleFunc("GET /actions/token", func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		j, ok := iss.job(strings.TrimSpace(tok))
		if !strings.EqualFold(scheme, "bearer") || !ok {
			iss.logger.Printf("actions/token: refused an unknown request token")
			writeError(w, http.StatusUnauthorized, "Bad credentials")
			return
		}
		for name := range r.URL.Query() {
			if name != "audience" && name != "api-version" {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown parameter %q", name))
				return
			}
		}
		aud := r.URL.Query().Get("audience")
		if aud == "" {
			aud = "https://github.com/" + j.owner()
		}
		jwt, err := iss.mint(j, aud, "actions")
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"value": jwt})
	})
	return mux
}

func main() {
	addr := flag.String("addr", "127.0.0.1:5558", "listen address")
	issuerURL := flag.String("issuer", "", "issuer URL (default http://ADDR)")
	requestToken := flag.String("request-token", "", "a request token for a job with the default claims")
	bkAddr := flag.String("buildkite-addr", "", "listen address of the Buildkite-shaped issuer (none when empty)")
	bkURL := flag.String("buildkite-issuer", "", "its issuer URL (default http://ADDR)")
	bkJobID := flag.String("buildkite-job-id", "", "the job ID (a UUID) of a job with the default claims")
	bkAccessToken := flag.String("buildkite-access-token", "", "that job's agent access token")
	googleAddr := flag.String("google-addr", "", "listen address of the Google-shaped issuer (none when empty)")
	googleURL := flag.String("google-issuer", "", "its issuer URL (default http://ADDR)")
	spiffeAddr := flag.String("spiffe-addr", "", "listen address of the SPIFFE-shaped issuer (none when empty)")
	spiffeURL := flag.String("spiffe-issuer", "", "its issuer URL (default http://ADDR)")
	trustDomain := flag.String("spiffe-trust-domain", "example.test", "the SPIFFE issuer's trust domain")
	flag.Parse()
	logger := log.New(os.Stdout, "", log.LstdFlags)
	orDefault := func(u *string, addr string) string {
		if *u == "" {
			return "http://" + addr
		}
		return *u
	}

	iss, err := newIssuer(orDefault(issuerURL, *addr), logger)
	if err != nil {
		logger.Fatal(err)
	}
	if *requestToken != "" {
		j, err := parseJob(url.Values{})
		if err != nil {
			logger.Fatal(err)
		}
		if _, err := iss.addJob(*requestToken, j); err != nil {
			logger.Fatal(err)
		}
	}
	type server struct {
		name, addr, url string
		handler         http.Handler
	}
	servers := []server{{"actions", *addr, iss.url, iss.handler()}}

	if *bkAddr != "" {
		bk, err := newBuildkiteIssuer(orDefault(bkURL, *bkAddr), logger)
		if err != nil {
			logger.Fatal(err)
		}
		if (*bkJobID == "") != (*bkAccessToken == "") {
			logger.Fatal("-buildkite-job-id and -buildkite-access-token go together")
		}
		if *bkJobID != "" {
			if !validJobID(*bkJobID) {
				logger.Fatalf("-buildkite-job-id %q is not a UUID", *bkJobID)
			}
			j, err := parseBKJob(url.Values{})
			if err != nil {
				logger.Fatal(err)
			}
			if err := bk.addJob(j, *bkJobID, *bkAccessToken); err != nil {
				logger.Fatal(err)
			}
		}
		servers = append(servers, server{"buildkite", *bkAddr, bk.key.url, bk.handler()})
	}
	if *googleAddr != "" {
		g, err := newGoogleIssuer(orDefault(googleURL, *googleAddr), logger)
		if err != nil {
			logger.Fatal(err)
		}
		servers = append(servers, server{"google", *googleAddr, g.key.url, g.handler()})
	}
	if *spiffeAddr != "" {
		sp, err := newSpiffeIssuer(orDefault(spiffeURL, *spiffeAddr), *trustDomain, logger)
		if err != nil {
			logger.Fatal(err)
		}
		servers = append(servers, server{"spiffe", *spiffeAddr, sp.key.url, sp.handler()})
	}

	// Listen on every address before serving any, so that a busy port
	// fails the start.
	listeners := make([]net.Listener, len(servers))
	for i, s := range servers {
		if listeners[i], err = net.Listen("tcp", s.addr); err != nil {
			logger.Fatalf("%s issuer: %v", s.name, err)
		}
	}
	errs := make(chan error, len(servers))
	for i, s := range servers {
		srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
		logger.Printf("%s issuer %s listening on %s", s.name, s.url, s.addr)
		go func() { errs <- fmt.Errorf("%s issuer: %w", s.name, srv.Serve(listeners[i])) }()
	}
	logger.Fatal(<-errs)
}
