package rekor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/gitsign-dev/gitsign/internal/httpx"
)

// Client uploads entries to one log.
type Client struct {
	URL     string // base URL of the log
	Version int    // 1 (Rekor v1 API) or 2 (Rekor v2, rekor-tiles)
	HTTP    *httpx.Client
}

// Upload records a signature sig, made with cert's key over an artifact
// whose SHA-256 is digest, and returns the log's entry with its proof.
func (c *Client) Upload(ctx context.Context, digest, sig []byte, cert *x509.Certificate) (*protorekor.TransparencyLogEntry, error) {
	if len(digest) != 32 {
		return nil, errors.New("rekor: digest must be a SHA-256")
	}
	switch c.Version {
	case 0, 1:
		return c.uploadV1(ctx, digest, sig, cert)
	case 2:
		return c.uploadV2(ctx, digest, sig, cert)
	}
	return nil, fmt.Errorf("rekor: unknown log version %d", c.Version)
}

func (c *Client) base() string { return strings.TrimRight(c.URL, "/") }
