package main

// This file holds what a token describes: the job (repository, ref,
// workflow, event and the rest), read from request parameters.

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// job is the run whose identity a token carries.
type job struct {
	Repository        string
	Ref               string
	Workflow          string // path of the workflow file in the repository
	WorkflowName      string
	Event             string
	SHA               string
	Actor             string
	Environment       string
	RunnerEnvironment string
	Visibility        string
	JobWorkflowRef    string
	JobWorkflowSHA    string
	HeadRef, BaseRef  string
	RunID             string
	RunNumber         string
	RunAttempt        string
	TTL               time.Duration
}

var (
	repoRE        = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
	refRE         = regexp.MustCompile(`^refs/[^\s@:]+$`)
	workflowRE    = regexp.MustCompile(`^\.github/workflows/[^\s@/][^\s@]*\.ya?ml$`)
	jobWorkflowRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+/\.github/workflows/[^\s@]+\.ya?ml@refs/[^\s@:]+$`)
	shaRE         = regexp.MustCompile(`^[0-9a-f]{40}$`)
	eventRE       = regexp.MustCompile(`^[a-z_]{1,64}$`)
	nameRE        = regexp.MustCompile(`^[^\x00-\x1f\x7f:]{1,200}$`)
	textRE        = regexp.MustCompile(`^[^\x00-\x1f\x7f]{1,200}$`)
	actorRE       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:\[bot\])?$`)
	digitsRE      = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)
)

var jobParams = map[string]bool{
	"repository": true, "ref": true, "workflow": true, "workflow_name": true, "event": true, "sha": true,
	"actor": true, "environment": true, "runner_environment": true, "visibility": true,
	"job_workflow_ref": true, "job_workflow_sha": true, "run_attempt": true, "head_ref": true, "base_ref": true,
	"ttl": true,
}

// checkParams refuses parameters that are not known or extra, or given
// more than once, and returns a getter of a parameter with its default.
func checkParams(v url.Values, known map[string]bool, extra []string) (get func(name, def string) string, err error) {
	for name, vals := range v {
		if !known[name] && !contains(extra, name) {
			return nil, fmt.Errorf("unknown parameter %q", name)
		}
		if len(vals) != 1 {
			return nil, fmt.Errorf("parameter %q given %d times", name, len(vals))
		}
	}
	return func(name, def string) string {
		if s := v.Get(name); s != "" {
			return s
		}
		return def
	}, nil
}

// parseJob reads a job from request parameters; extra names the parameters
// the endpoint takes besides the job's.
func parseJob(v url.Values, extra ...string) (*job, error) {
	get, err := checkParams(v, jobParams, extra)
	if err != nil {
		return nil, err
	}
	j := &job{
		Repository:        get("repository", "acme/app"),
		Ref:               get("ref", "refs/heads/main"),
		Workflow:          get("workflow", ".github/workflows/release.yml"),
		Event:             get("event", "push"),
		Actor:             get("actor", "alice"),
		Environment:       v.Get("environment"),
		RunnerEnvironment: get("runner_environment", "github-hosted"),
		Visibility:        get("visibility", "public"),
		RunAttempt:        get("run_attempt", "1"),
		HeadRef:           v.Get("head_ref"),
		BaseRef:           v.Get("base_ref"),
		TTL:               defaultTTL,
	}
	j.WorkflowName = get("workflow_name", j.Workflow)
	sum := sha1.Sum([]byte(j.Repository + "\x00" + j.Ref))
	j.SHA = get("sha", hex.EncodeToString(sum[:]))
	j.JobWorkflowRef = get("job_workflow_ref", j.Repository+"/"+j.Workflow+"@"+j.Ref)
	j.JobWorkflowSHA = get("job_workflow_sha", j.SHA)

	checks := []struct {
		name, value string
		re          *regexp.Regexp
	}{
		{"repository", j.Repository, repoRE},
		{"ref", j.Ref, refRE},
		{"workflow", j.Workflow, workflowRE},
		{"workflow_name", j.WorkflowName, textRE},
		{"event", j.Event, eventRE},
		{"sha", j.SHA, shaRE},
		{"actor", j.Actor, actorRE},
		{"job_workflow_ref", j.JobWorkflowRef, jobWorkflowRE},
		{"job_workflow_sha", j.JobWorkflowSHA, shaRE},
		{"run_attempt", j.RunAttempt, digitsRE},
	}
	for _, c := range checks {
		if !c.re.MatchString(c.value) {
			return nil, fmt.Errorf("bad %s %q", c.name, c.value)
		}
	}
	for name, value := range map[string]string{"environment": j.Environment, "head_ref": j.HeadRef, "base_ref": j.BaseRef} {
		if value != "" && !nameRE.MatchString(value) {
			return nil, fmt.Errorf("bad %s %q", name, value)
		}
	}
	switch j.RunnerEnvironment {
	case "github-hosted", "self-hosted":
	default:
		return nil, fmt.Errorf("bad runner_environment %q (github-hosted or self-hosted)", j.RunnerEnvironment)
	}
	switch j.Visibility {
	case "public", "private", "internal":
	default:
		return nil, fmt.Errorf("bad visibility %q (public, private or internal)", j.Visibility)
	}
	if s := v.Get("ttl"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || time.Duration(n)*time.Second > maxTTL {
			return nil, fmt.Errorf("bad ttl %q (seconds, 1 to %d)", s, int(maxTTL.Seconds()))
		}
		j.TTL = time.Duration(n) * time.Second
	}
	return j, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (j *job) owner() string { o, _, _ := strings.Cut(j.Repository, "/"); return o }

// subject is the sub claim, in GitHub's default format.
func (j *job) subject() string {
	switch {
	case j.Environment != "":
		return "repo:" + j.Repository + ":environment:" + j.Environment
	case j.Event == "pull_request" || j.Event == "pull_request_target":
		return "repo:" + j.Repository + ":pull_request"
	default:
		return "repo:" + j.Repository + ":ref:" + j.Ref
	}
}

func (j *job) refType() string {
	if strings.HasPrefix(j.Ref, "refs/tags/") {
		return "tag"
	}
	return "branch"
}

// numericID is a stable stand-in for the numeric ID GitHub gives a user,
// organization or repository, so that one name always has one ID.
func numericID(kind, name string) string {
	h := fnv.New64a()
	h.Write([]byte(kind + "\x00" + strings.ToLower(name)))
	return strconv.FormatUint(10_000_000+h.Sum64()%900_000_000, 10)
}
