package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gitsign-dev/gitsign/internal/httpx"
)

// ProviderGoogleWorkloadIdentity asks the GCE or GKE metadata server for
// the identity token of the instance's (or pod's) service account.
const ProviderGoogleWorkloadIdentity = "google-workload-identity"

// EnvGCEMetadataHost overrides the metadata server's host[:port], as
// Google's client libraries (cloud.google.com/go/compute/metadata) read it.
const EnvGCEMetadataHost = "GCE_METADATA_HOST"

// DefaultGCEMetadataHost is the metadata server's name inside Google
// Cloud (GCE instances, GKE pods, Cloud Run, Cloud Build).
const DefaultGCEMetadataHost = "metadata.google.internal"

// metadataTimeout bounds each attempt: the metadata server is on the
// machine's own network and answers at once, and off Google Cloud its
// name does not resolve or nothing answers, which must not hold a
// commit for long.
const metadataTimeout = 5 * time.Second

// ErrNoMetadataServer is wrapped when nothing answers at the metadata
// server's address (google-workload-identity outside Google Cloud).
var ErrNoMetadataServer = errors.New("no metadata server")

// googleWorkloadIdentityToken asks the metadata server (see metadataGet)
// for an identity token for audience o.ClientID (DefaultAudience when
// empty), the request Google's idtoken library makes on Compute Engine:
//
//	GET http://HOST/computeMetadata/v1/instance/service-accounts/default/identity?audience=AUD&format=full
//	Metadata-Flavor: Google
//
// HOST is GCE_METADATA_HOST, metadata.google.internal when unset.
func googleWorkloadIdentityToken(ctx context.Context, o *Options) (*IDToken, error) {
	aud := o.ClientID
	if aud == "" {
		aud = DefaultAudience
	}
	q := url.Values{"audience": {aud}, "format": {"full"}}
	done := o.Progress("asking the metadata server for an identity token")
	resp, endpoint, err := metadataGet(ctx, o, "instance/service-accounts/default/identity?"+q.Encode())
	done(err)
	if err != nil {
		return nil, err
	}
	if len(resp.Body) > maxTokenLen {
		return nil, fmt.Errorf("the metadata server at %s answered more than %d bytes, which is no token", endpoint, maxTokenLen)
	}
	raw := trimToken(string(resp.Body))
	if raw == "" {
		return nil, fmt.Errorf("%w: the metadata server at %s answered without a token", ErrNoToken, endpoint)
	}
	tok, err := ParseUnverified(raw)
	if err != nil {
		return nil, fmt.Errorf("the metadata server's token: %w", err)
	}
	if err := checkAudience(tok, aud, "the metadata server's token"); err != nil {
		return nil, err
	}
	return tok, nil
}

// metadataGet asks the metadata server (GCE_METADATA_HOST, else
// metadata.google.internal) for computeMetadata/v1/ + suffix, directly,
// never through a proxy. Each attempt is bounded by 5 seconds (o.Timeout
// when shorter); a failed connection and a 5xx answer are tried once
// more. It returns the URL it asked, for messages.
func metadataGet(ctx context.Context, o *Options, suffix string) (*httpx.Response, string, error) {
	host, where := DefaultGCEMetadataHost, "gitsign is not running on Google Cloud?"
	if v, _ := o.LookupEnv(EnvGCEMetadataHost); strings.TrimSpace(v) != "" {
		host, where = strings.TrimSpace(v), EnvGCEMetadataHost+" names it"
	}
	if u, err := url.Parse("http://" + host + "/"); err != nil || u.Host != host || strings.ContainsAny(host, "/?#@ \t") {
		return nil, "", fmt.Errorf("%s must be a host name or address with an optional port, got %s", EnvGCEMetadataHost, displayString(host))
	}
	endpoint := "http://" + host + "/computeMetadata/v1/" + suffix
	timeout := metadataTimeout
	if o.Timeout > 0 && o.Timeout < timeout {
		timeout = o.Timeout
	}
	hc := &httpx.Client{
		Timeout: timeout, Retries: 1, Backoff: 100 * time.Millisecond, UserAgent: "gitsign",
		Transport: &http.Transport{
			Proxy:                 nil, // as Google's libraries: the metadata server is never behind a proxy
			DialContext:           (&net.Dialer{Timeout: timeout}).DialContext,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          1,
		},
	}
	resp, err := hc.Do(ctx, http.MethodGet, endpoint, nil, http.Header{"Metadata-Flavor": {"Google"}})
	if err != nil {
		return nil, endpoint, metadataError(endpoint, where, err)
	}
	if f := resp.Header.Get("Metadata-Flavor"); f != "Google" {
		return nil, endpoint, fmt.Errorf("what answered at %s is not a Google metadata server (no Metadata-Flavor: Google in its answer)", endpoint)
	}
	return resp, endpoint, nil
}

// metadataError says in one line why the metadata server gave no token;
// where says where its address comes from.
func metadataError(endpoint, where string, err error) error {
	var se *httpx.StatusError
	if errors.As(err, &se) {
		why := ""
		switch se.Status {
		case http.StatusNotFound:
			why = " (the instance or pod has no service account, or, on GKE, Workload Identity is not set up for it)"
		case http.StatusForbidden:
			why = " (the request was refused: a metadata server refuses requests without Metadata-Flavor: Google)"
		}
		return fmt.Errorf("the metadata server at %s answered %d %s%s%s", endpoint, se.Status, http.StatusText(se.Status), serverLine(se.Body), why)
	}
	if httpx.IsTimeout(err) {
		return fmt.Errorf("%w at %s: no answer in time (%s)", ErrNoMetadataServer, endpoint, where)
	}
	return fmt.Errorf("%w at %s: %s (%s)", ErrNoMetadataServer, endpoint, lastWords(err), where)
}

// serverLine is ": " and the first line of a server's answer, escaped,
// or "".
func serverLine(body string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return ""
	}
	return ": " + displayLine(line)
}

// lastWords is the innermost cause of a failed connection, as a person
// reads it: "connection refused", "no such host".
func lastWords(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return "the name " + dns.Name + " does not resolve"
		}
		return "cannot resolve " + dns.Name + ": " + dns.Err
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
