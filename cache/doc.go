// Package cache keeps gitsign's ephemeral credentials (a private key and
// the Fulcio certificate chain issued for it) between signatures, so that
// a rebase of fifty commits needs one login instead of fifty.
//
// An [Agent] holds credentials: Get, Put, List and Clear, in the manner of
// the SSH agent's keyring. There are three, and one conformance test runs
// against them all:
//
//   - [Store], in memory, which the agent process (gitsign-credential-cache)
//     serves over a unix socket to processes of the same user ([Server]);
//   - [Client], which speaks to such an agent over a connection;
//   - [Keyring], the OS keyring: Secret Service on Linux, the Keychain on
//     macOS, the Credential Manager on Windows.
//
// A [Session], made by [Open], is one gitsign process's use of the Agent
// its [Settings] choose ([Mode]). It is itself an Agent, one that never
// stands in the way of a signature: a cache that cannot be used is
// reported once, as an [*UnavailableError], and then behaves as an empty
// one.
//
// Every entry is keyed by the Sigstore instance and OIDC client it was
// issued for ([Key]: Fulcio URL, issuer, client id), so every repository
// signing against the same instance shares one login, and it is never
// handed out once its certificate is within [ExpiryMargin] of its
// NotAfter.
//
// The agent is a dumb store. It never runs a login and never contacts the
// network: the gitsign process that owns the person's terminal logs in on
// a miss and stores what it got. Nothing in this package prints or logs a
// private key.
//
// # Protocol
//
// The agent protocol is explicit, versioned and bounded, in the manner of
// the SSH agent protocol: every message is a 4-byte big-endian length
// followed by that many bytes, at most [MaxMessageSize]; the first byte of
// a message is the protocol version ([ProtocolVersion]), the second its
// type. wire.go documents each message. A connection carries any number of
// request/reply pairs; the client speaks first.
//
// The protocol code ([Client], [Server.ServeConn]) does not know about
// sockets and can run over any stream. The unix-socket helpers ([Listen],
// [Dial], [SystemdListener], [DefaultSocketPath]) are what both gitsign
// and the agent use: they create the socket directory 0700 and the socket
// 0600, never replace a live socket, remove a stale one, and check the
// peer's uid on both sides ([PeerUID]), so that no other user can take a
// credential from the agent or feed one to it.
//
// # What this package is not
//
// It is not a general secret store and not an ssh-agent: it holds only
// gitsign credentials, it does not sign on a client's behalf, and it trusts
// exactly one user, the one it runs as. It reads no configuration: which
// cache to use, and where its socket is, are the caller's [Settings].
package cache
