package cli

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/oauth"
	"github.com/gitsign-dev/gitsign/verify"
)

// knownHints says what the person can do about the typed errors err
// wraps. The libraries' messages say what went wrong; the flags, git
// config keys and environment variables that change it are named here.
func knownHints(err error) []string {
	var (
		ce  *config.Error
		ue  *cache.UnavailableError
		se  *oauth.SourceError
		cm  *gitsign.CommitterMismatchError
		hse *httpx.StatusError
		te  *verify.TrustError
		amb *gitrepo.AmbiguousError
		hf  *httpx.Failure
		nl  *oauth.NoLoginError
	)
	switch {
	case errors.As(err, &ce):
		return configHints(ce)
	case errors.As(err, &ue):
		return cacheHints(ue)
	case errors.Is(err, cache.ErrAgentUnsupported):
		return []string{"use the OS keyring instead: git config --global gitsign.cache keyring"}
	case errors.Is(err, errClientSecretFile):
		return []string{"it is named by git config gitsign.clientSecretFile or GITSIGN_OIDC_CLIENT_SECRET_FILE: fix the path, or unset it for a public client"}
	case errors.Is(err, gitsign.ErrNeedsTimestampAuthority):
		return []string{"set GITSIGN_TIMESTAMP_SERVER_URL (gitsign.timestampServerURL) to a timestamp authority"}
	case errors.Is(err, gitsign.ErrOnlineNeedsRekorV1):
		return []string{"use GITSIGN_REKOR_MODE=offline (gitsign.rekorMode) with Rekor v2, or GITSIGN_REKOR_VERSION=1"}
	case errors.As(err, &cm):
		return []string{"gitsign.matchCommitter is set: log in as the committer, or set user.email to the identity you log in as"}
	case errors.As(err, &nl):
		return []string{
			"in CI, set " + oauth.EnvIDToken + " to an OIDC identity token for audience sigstore, or GITSIGN_TOKEN_FILE to a file that holds one",
			"in GitHub Actions, give the job permissions: id-token: write, and gitsign asks the job's token service",
			"to log in with a code anyway, set gitsign.tokenProvider (GITSIGN_TOKEN_PROVIDER) to device",
		}
	case errors.As(err, &hf):
		return failureHints(hf)
	case errors.As(err, &se):
		return tokenHints(se)
	case httpx.IsTimeout(err):
		return []string{"each request waits at most gitsign.timeout (GITSIGN_TIMEOUT, default 30s): raise it for a slow server"}
	case errors.As(err, &hse) && hse.Status == http.StatusTooManyRequests:
		return []string{"the server is limiting requests: try again in a minute"}
	case errors.As(err, &hse) && hse.Status >= 500:
		return []string{"the server failed: try again later"}
	case errors.Is(err, gitrepo.ErrNotRepository):
		return []string{"run it inside a git repository, or set GIT_DIR"}
	case errors.As(err, &amb):
		return ambiguousHints(amb)
	case errors.Is(err, errNoPolicy):
		return []string{"commit an allowed-signers file as .gitsigners on the branch HEAD names before installing the hook, or point gitsign.allowedSignersFile at a file on the server (README: Enforcing on the server)"}
	case errors.Is(err, errConfigPolicyConflict):
		return []string{`git config --show-origin --get-regexp '^gitsign\.(allowedsignersfile|certificate)' shows where they are set`}
	case errors.Is(err, gitrepo.ErrNoSuchFile):
		return signersRevHints(err)
	case errors.As(err, &te):
		return trustHints(te)
	}
	return nil
}

// serviceSettings name what sets each service's URL.
var serviceSettings = map[httpx.Service]string{
	httpx.Fulcio:        config.SetBy("gitsign.fulcio"),
	httpx.Rekor:         config.SetBy("gitsign.rekor"),
	httpx.TSA:           config.SetBy("gitsign.timestampServerURL"),
	httpx.Issuer:        config.SetBy("gitsign.issuer"),
	httpx.GitHubActions: "the job (ACTIONS_ID_TOKEN_REQUEST_URL)",
	httpx.TUF:           "gitsign initialize --mirror",
}

// failureHints: what to change when a service cannot be reached.
func failureHints(f *httpx.Failure) []string {
	timeout := ""
	if f.Service == httpx.TUF {
		timeout = "gitsign initialize --timeout (default 60s)"
	}
	return f.Hints(serviceSettings[f.Service], timeout)
}

// signersRevHints: an allowed-signers REV:PATH that git cannot find may
// be a revision not fetched yet, or a path with a colon in it.
func signersRevHints(err error) []string {
	hints := []string{"in CI, fetch the revision first (e.g. git fetch origin main)"}
	var se *signersError
	if errors.As(err, &se) {
		if q, ok := printable.ShellQuote("./" + se.Value); ok {
			hints = append(hints, "a file whose name has a colon is a path when it starts with ./ (e.g. "+q+")")
		}
	}
	return hints
}

// configHints: where an invalid setting comes from.
func configHints(e *config.Error) []string {
	if strings.HasPrefix(e.Key, "GITSIGN_") || strings.HasPrefix(e.Key, "SIGSTORE_") {
		return []string{"it is set in the environment: fix it, or unset " + e.Key}
	}
	return []string{"git config --show-origin --get-all " + e.Key + " shows where it is set"}
}

// cacheHints: how to start an agent that is not running, or stop asking a
// keyring that is not there.
func cacheHints(e *cache.UnavailableError) []string {
	var ke *cache.KeyringError
	switch {
	case errors.As(e, &ke):
		return []string{"git config --global gitsign.cache off stops using the keyring; gitsign.cache agent uses gitsign-credential-cache instead"}
	case errors.Is(e, cache.ErrAgentUnsupported):
		return []string{"use the OS keyring instead: git config --global gitsign.cache keyring"}
	case !e.AgentNotRunning():
		return nil
	}
	if def, err := cache.DefaultSocketPath(); err == nil && def == e.Socket {
		return []string{
			"gitsign setup starts it the platform's way (a systemd user socket, a launchd agent), once for good",
			"or start it for this session: gitsign-credential-cache &",
		}
	}
	if path, ok := printable.ShellQuote(e.Socket); ok {
		return []string{"start the agent there: gitsign-credential-cache --socket " + path + " &"}
	}
	return []string{"start gitsign-credential-cache with --socket set to that path"}
}

// tokenHints: what to do when the identity token cannot be had.
func tokenHints(e *oauth.SourceError) []string {
	var expired *oauth.ExpiredError
	switch {
	case errors.Is(e, oauth.ErrLoginTimeout):
		return []string{"open the login URL shown above in a browser, or sign in with a code on another device: gitsign.tokenProvider=device"}
	case errors.Is(e, oauth.ErrDeviceCodeExpired):
		return []string{"sign again, and enter the code before it expires"}
	case errors.Is(e, oauth.ErrNoDeviceFlow):
		return []string{"use the browser login: gitsign.tokenProvider=interactive (GITSIGN_TOKEN_PROVIDER)"}
	case e.Provider == oauth.ProviderEnvVar && errors.As(e, &expired):
		return []string{oauth.EnvIDToken + " holds an expired token: set a fresh one, or unset it to log in"}
	case e.Provider == oauth.ProviderEnvVar && errors.Is(e, oauth.ErrNotJWT):
		return []string{oauth.EnvIDToken + " must hold an OIDC identity token (a JWT)"}
	case e.Provider == oauth.ProviderBuildkite && errors.Is(e, oauth.ErrNoToken):
		return []string{"the buildkite-agent provider works in the steps of a Buildkite job; elsewhere, unset gitsign.tokenProvider (GITSIGN_TOKEN_PROVIDER)"}
	case errors.Is(e, oauth.ErrNoBuildkiteAgent):
		return []string{"install buildkite-agent in the job's image, or put its token in " + oauth.EnvIDToken + ": buildkite-agent oidc request-token --audience sigstore"}
	case errors.Is(e, oauth.ErrNoGoogleCredentials):
		return []string{"log in with gcloud auth application-default login, or set " + oauth.EnvGoogleApplicationCredentials + " to a credentials file (a service account key, a workload identity federation configuration)"}
	case errors.Is(e, oauth.ErrNoServiceAccount):
		return []string{"set " + oauth.EnvGoogleServiceAccountName + " to the email address of the service account to sign as"}
	case errors.Is(e, oauth.ErrNoMetadataServer):
		return []string{"google-workload-identity works on Google Cloud (Compute Engine, GKE with Workload Identity, Cloud Run, Cloud Build); elsewhere, unset gitsign.tokenProvider (GITSIGN_TOKEN_PROVIDER)"}
	case errors.Is(e, oauth.ErrNoWorkloadAPI):
		return []string{"the spiffe provider asks the Workload API of a SPIRE agent on this machine: start the agent, or set " + oauth.EnvSPIFFEEndpointSocket + " to its socket (a path or unix:///path); elsewhere, unset gitsign.tokenProvider (GITSIGN_TOKEN_PROVIDER)"}
	case errors.Is(e, oauth.ErrNoSVID):
		return []string{
			"the SPIRE agent gives a JWT-SVID only to a workload that a registration entry's selectors match (e.g. spire-server entry create -selector unix:uid:UID ...)",
			"spire-agent api fetch jwt -audience sigstore, run as this user, shows what the agent gives",
		}
	case e.Provider == oauth.ProviderFilesystem && errors.As(e, &expired):
		return []string{"the token file (gitsign.tokenFile, GITSIGN_TOKEN_FILE) holds an expired token: replace it with a fresh one"}
	}
	return nil
}

// policyHints names what sets the missing half of an identity policy, or
// what replaces identity and issuer rules that would cross: the flags of
// gitsign verify (flags), or git config for git's helper path.
func policyHints(err error, flags bool) []string {
	var pe *verify.PolicyError
	if !errors.As(err, &pe) {
		return nil
	}
	switch {
	case pe.Crossed && flags:
		return []string{"pair each identity with its issuer in an allowed-signers file (a line IDENTITY ISSUER each) and pass it with --allowed-signers FILE, or set git config gitsign.allowedSignersFile to it"}
	case pe.Crossed:
		return []string{"pair each identity with its issuer in an allowed-signers file (a line IDENTITY ISSUER each) and set git config gitsign.allowedSignersFile to it, in place of gitsign.certificateIdentity and gitsign.certificateOIDCIssuer"}
	case pe.Missing == "":
		return nil
	case pe.Missing == "identity" && flags:
		return []string{"set --certificate-identity or --certificate-identity-regexp (or git config gitsign.certificateIdentity)"}
	case pe.Missing == "identity":
		return []string{"set one with git config --add gitsign.certificateIdentity VALUE (or gitsign.certificateIdentityRegexp)"}
	case flags:
		return []string{"set --certificate-oidc-issuer or --certificate-oidc-issuer-regexp (or git config gitsign.certificateOIDCIssuer)"}
	}
	return []string{"set one with git config --add gitsign.certificateOIDCIssuer VALUE (or gitsign.certificateOIDCIssuerRegexp)"}
}

// noPolicyError: gitsign verify was given no policy at all. The hints
// lead to an allowed-signers file (one already in the work tree, when
// there is one), to gitsign show for the line to put in it, and to the
// flags.
func noPolicyError(ctx context.Context) error {
	e := &exitError{code: 2, err: errors.New("nothing says who may sign: no allowed-signers file and no identity rules are set")}
	if top, err := gitrepo.TopLevel(ctx); err == nil {
		if fi, err := os.Stat(filepath.Join(top, ".gitsigners")); err == nil && fi.Mode().IsRegular() {
			e.hint("this work tree has a .gitsigners file: use it with git config gitsign.allowedSignersFile .gitsigners (or --allowed-signers .gitsigners)")
		}
	}
	if len(e.hints) == 0 {
		e.hint("list who may sign in an allowed-signers file, a line IDENTITY ISSUER each, e.g. .gitsigners committed with the code, and set git config gitsign.allowedSignersFile .gitsigners (or pass --allowed-signers FILE)")
	}
	e.hint("gitsign show REVISION prints the line for whoever signed REVISION")
	e.hint("or give one identity and its issuer: --certificate-identity ID --certificate-oidc-issuer URL (git config gitsign.certificateIdentity and gitsign.certificateOIDCIssuer)")
	return e
}

// signExitCode is the exit code of a signature that failed with err: 2
// for a setup that cannot work (settings that contradict each other, an
// unknown token provider, a service URL that is not a web URL), which no
// retry fixes; 1 otherwise.
func signExitCode(err error) int {
	var (
		oe *gitsign.OptionError
		ce *config.Error
		hf *httpx.Failure
	)
	switch {
	case errors.As(err, &oe), errors.As(err, &ce),
		errors.Is(err, gitsign.ErrNeedsTimestampAuthority), errors.Is(err, gitsign.ErrOnlineNeedsRekorV1),
		errors.Is(err, errClientSecretFile),
		errors.As(err, &hf) && hf.Class == httpx.BadURL:
		return 2
	}
	return 1
}
