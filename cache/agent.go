package cache

// Agent holds credentials: the in-memory [Store], the agent [Client], and
// the OS [Keyring]. A [Server] serves any Agent over a connection, and a
// [Session] wraps the one gitsign is configured to use.
//
// None hands out a credential whose certificate is within [ExpiryMargin]
// of its end, and Store, Client and Keyring refuse to store one (a
// Session reports the refusal to Settings.Warn instead).
type Agent interface {
	// Get returns the credential stored under the key, or an error
	// matching ErrNotFound when there is none or it is no longer usable.
	Get(Key) (*Credential, error)
	// Put stores the credential under the key, replacing what the key
	// held.
	Put(Key, *Credential) error
	// List describes every usable entry, without private keys, soonest
	// to expire first.
	List() ([]Entry, error)
	// Clear forgets every credential the agent holds.
	Clear() error
}

// The implementations.
var (
	_ Agent = (*Store)(nil)
	_ Agent = (*Client)(nil)
	_ Agent = (*Keyring)(nil)
	_ Agent = (*Session)(nil)
)
