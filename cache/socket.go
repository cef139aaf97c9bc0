package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// DefaultSocketPath is where the agent listens and gitsign looks for it
// when no other socket is configured: gitsign/cache.sock under the user's
// cache directory (on Linux $XDG_CACHE_HOME or ~/.cache, the %C of a
// systemd user unit).
func DefaultSocketPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache: finding the default socket: %w", err)
	}
	return filepath.Join(dir, "gitsign", "cache.sock"), nil
}

// socketAgent is the agent listening at a unix socket, dialed afresh for
// each operation; timeout bounds each, connecting included.
type socketAgent struct {
	path    string
	timeout time.Duration
}

func (a socketAgent) with(f func(*Client) error) error {
	conn, err := Dial(a.path, a.timeout)
	if err != nil {
		return err
	}
	cl := NewClient(conn)
	defer cl.Close()
	return f(cl)
}

func (a socketAgent) Get(k Key) (c *Credential, err error) {
	err = a.with(func(cl *Client) error {
		c, err = cl.Get(k)
		return err
	})
	return c, err
}

func (a socketAgent) Put(k Key, c *Credential) error {
	return a.with(func(cl *Client) error { return cl.Put(k, c) })
}

func (a socketAgent) List() (es []Entry, err error) {
	err = a.with(func(cl *Client) error {
		es, err = cl.List()
		return err
	})
	return es, err
}

func (a socketAgent) Clear() error {
	return a.with(func(cl *Client) error { return cl.Clear() })
}
