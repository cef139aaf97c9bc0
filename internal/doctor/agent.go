package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/config"
)

// checkAgent checks the credential cache the settings choose. For the
// agent, it connects and asks what is cached (LIST, which carries no
// private key): an agent of this protocol answers; something that accepts
// the connection and answers otherwise, or not at all, is another program,
// most likely sigstore/gitsign's agent, which speaks Go's net/rpc. The OS
// keyring is not probed: asking it may prompt the person.
func checkAgent(o Options, cfg *config.Config) Check {
	const name = "agent"
	switch cfg.Cache {
	case cache.ModeOff:
		return check(name, OK, "the credential cache is off (gitsign.cache=off): every signature logs in")
	case cache.ModeKeyring:
		return check(name, OK, "credentials are cached in the OS keyring (gitsign.cache=keyring; not probed, it may prompt)")
	}
	socket := cfg.CredentialCache
	if socket == "" {
		p, err := cache.DefaultSocketPath()
		if err != nil {
			return check(name, Warn, "no socket for the agent: "+err.Error(),
				"set gitsign.credentialCache (GITSIGN_CREDENTIAL_CACHE) to the agent's socket, or gitsign.cache to keyring or off")
		}
		socket = p
	}
	start := "start the agent: gitsign-credential-cache --socket " + socket + " &"
	conn, err := cache.Dial(socket, o.AgentTimeout)
	var owner *cache.OwnerError
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist) && cfg.Cache == cache.ModeAuto && cfg.CredentialCache == "":
		// Signing works, but a rebase logs in once per commit.
		return check(name, Warn, "no credential cache agent at "+socket+": each signature logs in",
			"to log in once for many commits, gitsign setup starts the agent the platform's way; or run gitsign-credential-cache &",
			"or, to log in every time on purpose: git config --global gitsign.cache off")
	case errors.Is(err, fs.ErrNotExist):
		return check(name, Warn, "no credential cache agent is running at "+socket+": each signature logs in, with a warning", start)
	case errors.Is(err, syscall.ECONNREFUSED):
		return check(name, Warn, "the credential cache agent at "+socket+" is not running (a stale socket, connection refused): each signature logs in, with a warning", start)
	case errors.As(err, &owner):
		return check(name, Fail, fmt.Sprintf("the socket %s is another user's (uid %d, you are %d): gitsign never uses it", socket, owner.UID, owner.You),
			"point gitsign.credentialCache (GITSIGN_CREDENTIAL_CACHE) at a socket of your own")
	case errors.Is(err, cache.ErrAgentUnsupported):
		return check(name, Warn, "this system has no agent: "+err.Error(), "git config --global gitsign.cache keyring")
	default:
		return check(name, Fail, "cannot reach the credential cache agent at "+socket+": "+err.Error(),
			"point gitsign.credentialCache (GITSIGN_CREDENTIAL_CACHE) at the agent's socket, or set gitsign.cache to keyring or off")
	}
	cl := cache.NewClient(conn)
	defer cl.Close()
	entries, err := cl.List()
	var agentErr *cache.AgentError
	switch {
	case err == nil:
		return check(name, OK, fmt.Sprintf("the credential cache agent at %s answers (protocol %d; %s)", socket, cache.ProtocolVersion, credentials(len(entries))))
	case errors.As(err, &agentErr) && agentErr.Code == cache.CodeUnsupportedVersion:
		return check(name, Fail, fmt.Sprintf("the agent at %s speaks another version of gitsign's agent protocol than this gitsign's (%d)", socket, cache.ProtocolVersion),
			"restart the agent from the same build as this gitsign")
	case errors.As(err, &agentErr):
		return check(name, Fail, "the agent at "+socket+" refused to list its credentials: "+err.Error(), "restart the agent")
	}
	return check(name, Fail, "something listens at "+socket+" but does not answer in gitsign's agent protocol ("+err.Error()+")",
		"this is another agent (sigstore/gitsign's?): stop it, or point gitsign.credentialCache (GITSIGN_CREDENTIAL_CACHE) at another socket and start gitsign-credential-cache there")
}

func credentials(n int) string {
	if n == 1 {
		return "1 credential cached"
	}
	return fmt.Sprintf("%d credentials cached", n)
}
