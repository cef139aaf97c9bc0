package deps

import (
	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/github/smimesign/ietf-cms/protocol"
	_ "github.com/pkg/browser"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	_ "github.com/sigstore/sigstore-go/pkg/root"
	_ "github.com/sigstore/sigstore-go/pkg/testing/ca"
	_ "github.com/sigstore/sigstore-go/pkg/tlog"
	_ "github.com/sigstore/sigstore-go/pkg/verify"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/oauth2"
)
