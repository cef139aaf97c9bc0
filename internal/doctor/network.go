package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/httpx"
)

// Clock skew limits: a certificate lasts 10 minutes, and Fulcio and Rekor
// date what they sign by their own clocks.
const (
	skewWarn = 30 * time.Second
	skewFail = 5 * time.Minute
)

// A service is one server to reach.
type service struct {
	name    string // the check's name
	svc     httpx.Service
	url     string // what to GET
	setting string // what sets the URL, for hints
	// anyAnswer: any HTTP answer shows the server is there (the URL is
	// not one that answers GET with 2xx).
	anyAnswer bool
	// optional: signing works without it (a token is given), so a
	// failure is a warning.
	optional bool
}

// answer is what a service's check found: the check, and the server's
// Date header with the local time it was received at (mid-request).
type answer struct {
	check Check
	svc   httpx.Service
	date  time.Time
	local time.Time
}

// checkNetwork checks, concurrently, that the OIDC issuer, Fulcio, Rekor
// and the timestamp authority (when one is set) answer, and then the
// local clock against the Date of Fulcio's answer (else Rekor's).
func checkNetwork(ctx context.Context, o Options, cfg *config.Config) []Check {
	services := servicesOf(o, cfg)
	names := []string{"issuer", "fulcio", "rekor", "tsa", "clock"}
	if o.Offline {
		var out []Check
		for _, n := range names {
			out = append(out, check(n, Skip, "not checked (--offline)"))
		}
		return out
	}
	answers := make([]answer, len(services))
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() { answers[i] = reach(ctx, o, s) })
	}
	wg.Wait()
	var out []Check
	for _, a := range answers {
		out = append(out, a.check)
	}
	if cfg.TimestampURL == "" {
		out = append(out, check("tsa", Skip, "no timestamp authority is set (gitsign.timestampServerURL)"))
	}
	return append(out, checkClock(answers))
}

// servicesOf lists the servers signing needs with cfg.
func servicesOf(o Options, cfg *config.Config) []service {
	token := tokenGiven(o, cfg)
	rekor := service{name: "rekor", svc: httpx.Rekor, url: join(cfg.Rekor, "/api/v1/log"), setting: config.SetBy("gitsign.rekor")}
	if cfg.RekorVersion == 2 {
		rekor.url, rekor.anyAnswer = cfg.Rekor, true
	}
	out := []service{
		{name: "issuer", svc: httpx.Issuer, url: join(cfg.Issuer, "/.well-known/openid-configuration"), setting: config.SetBy("gitsign.issuer"), optional: token},
		{name: "fulcio", svc: httpx.Fulcio, url: join(cfg.Fulcio, "/api/v2/trustBundle"), setting: config.SetBy("gitsign.fulcio")},
		rekor,
	}
	if cfg.TimestampURL != "" {
		out = append(out, service{name: "tsa", svc: httpx.TSA, url: cfg.TimestampURL, setting: config.SetBy("gitsign.timestampServerURL"), anyAnswer: true})
	}
	return out
}

// tokenGiven reports whether signing gets its identity token without
// the issuer: from SIGSTORE_ID_TOKEN, a token file, or CI.
func tokenGiven(o Options, cfg *config.Config) bool {
	if v, _ := o.lookupEnv("SIGSTORE_ID_TOKEN"); strings.TrimSpace(v) != "" {
		return true
	}
	switch cfg.TokenProvider {
	case "envvar", "filesystem", "github-actions":
		return true
	}
	return false
}

func join(base, path string) string { return strings.TrimSuffix(base, "/") + path }

// reach GETs s.url once, within o.ServiceTimeout.
func reach(ctx context.Context, o Options, s service) answer {
	ctx, cancel := context.WithTimeout(ctx, o.ServiceTimeout)
	defer cancel()
	c := httpx.New(o.ServiceTimeout)
	c.Service, c.Retries, c.Transport = s.svc, 0, o.Transport
	sent := o.Now()
	resp, err := c.Do(ctx, http.MethodGet, s.url, nil, nil)
	local := sent.Add(o.Now().Sub(sent) / 2)
	var f *httpx.Failure
	switch {
	case err == nil:
		a := answer{check: check(s.name, OK, fmt.Sprintf("%s at %s answers (HTTP %d)", s.svc, s.url, resp.Status)), svc: s.svc, local: local}
		a.date, _ = http.ParseTime(resp.Header.Get("Date"))
		return a
	case s.anyAnswer && errors.As(err, &f) && f.Class == httpx.Status:
		return answer{check: check(s.name, OK, fmt.Sprintf("%s at %s answers (HTTP %d to GET)", s.svc, s.url, f.Status))}
	case errors.As(err, &f):
		status := Fail
		if s.optional {
			status = Warn
		}
		hints := f.Hints(s.setting, o.ServiceTimeout.String()+" (gitsign doctor's limit; signing waits gitsign.timeout, GITSIGN_TIMEOUT)")
		summary := f.Error()
		if s.optional {
			summary += " (not needed while a token is given)"
		}
		return answer{check: check(s.name, status, summary, hints...)}
	}
	return answer{check: check(s.name, Fail, fmt.Sprintf("cannot reach %s at %s: %v", s.svc, s.url, err), "check the URL: "+s.setting+" sets it")}
}

// checkClock compares the local clock with a server's Date: Fulcio's,
// whose certificates it is about, else Rekor's, else any other's.
func checkClock(answers []answer) Check {
	rank := func(a answer) int {
		switch a.svc {
		case httpx.Fulcio:
			return 0
		case httpx.Rekor:
			return 1
		}
		return 2
	}
	answers = slices.Clone(answers)
	slices.SortStableFunc(answers, func(a, b answer) int { return rank(a) - rank(b) })
	for _, a := range answers {
		if a.date.IsZero() {
			continue
		}
		skew := a.date.Sub(a.local).Round(time.Second)
		off := skew.Abs()
		where := "ahead of"
		if skew > 0 {
			where = "behind"
		}
		hint := "set the clock right (e.g. turn on NTP: timedatectl set-ntp true): certificates last 10 minutes and servers date what they sign"
		summary := fmt.Sprintf("the local clock is %s %s %s's (the Date of its answer)", off, where, a.svc)
		switch {
		case off > skewFail:
			return check("clock", Fail, summary, hint)
		case off > skewWarn:
			return check("clock", Warn, summary, hint)
		}
		return check("clock", OK, fmt.Sprintf("the local clock is within %s of %s's", max(off, time.Second), a.svc))
	}
	return check("clock", Skip, "no server answered with its time (a Date header)")
}
