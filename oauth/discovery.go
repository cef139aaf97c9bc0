package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gitsign-dev/gitsign/internal/httpx"
)

// issuer is an OIDC issuer after discovery.
type issuer struct {
	url  string
	hc   *http.Client
	ctx  context.Context // ctx carrying hc, for go-oidc
	p    *oidc.Provider
	meta issuerMeta
}

// issuerMeta is what gitsign reads from the discovery document besides
// the endpoints go-oidc reads.
type issuerMeta struct {
	PKCEMethods    []string `json:"code_challenge_methods_supported"`
	DeviceEndpoint string   `json:"device_authorization_endpoint"`
	// ISSParameter: the authorization response carries iss (RFC 9207).
	ISSParameter bool `json:"authorization_response_iss_parameter_supported"`
}

// discover fetches the issuer's discovery document. go-oidc checks that
// the document names the issuer it was fetched for.
func discover(ctx context.Context, o *Options) (*issuer, error) {
	if o.Issuer == "" {
		return nil, errors.New("no OIDC issuer configured")
	}
	if o.ClientID == "" {
		return nil, errors.New("no OIDC client ID configured")
	}
	hc := httpx.New(o.Timeout).For(httpx.Issuer).HTTPClient()
	octx := oidc.ClientContext(ctx, hc)
	p, err := oidc.NewProvider(octx, o.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovering issuer %s: %w", o.Issuer, err)
	}
	is := &issuer{url: o.Issuer, hc: hc, ctx: octx, p: p}
	if err := p.Claims(&is.meta); err != nil {
		return nil, fmt.Errorf("issuer %s: reading discovery document: %w", o.Issuer, err)
	}
	return is, nil
}

// requireS256 checks the discovery document for PKCE S256.
func (is *issuer) requireS256() error {
	if !slices.Contains(is.meta.PKCEMethods, "S256") {
		return fmt.Errorf("issuer %s: %w (it lists %q)", is.url, ErrNoPKCE, is.meta.PKCEMethods)
	}
	return nil
}

// webURL reports whether s is an absolute http(s) URL with a host: the
// only kind gitsign hands to a browser or shows as a place to go.
func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}
