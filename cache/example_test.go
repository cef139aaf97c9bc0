package cache_test

import (
	"fmt"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
)

// List what a running agent holds, as `gitsign cache status` does.
func ExampleNewClient() {
	path, err := cache.DefaultSocketPath()
	if err != nil {
		fmt.Println(err)
		return
	}
	conn, err := cache.Dial(path, 2*time.Second)
	if err != nil {
		fmt.Println("no agent:", err)
		return
	}
	cl := cache.NewClient(conn)
	defer cl.Close()
	entries, err := cl.List()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries {
		fmt.Println(e.Leaf.EmailAddresses, "via", e.Key.Issuer, "until", e.Leaf.NotAfter)
	}
}

// gitsign's own use: ask first, log in on a miss, store what the login
// gave. A cache that cannot be used is a warning on Warn, never an error:
// the Session then behaves as an empty cache.
func ExampleOpen() {
	s := cache.Open(cache.Settings{
		Mode: cache.ModeAuto,
		Warn: func(err error) { fmt.Println("warning:", err) },
	})
	key := cache.Key{Fulcio: "https://fulcio.sigstore.dev", Issuer: "https://oauth2.sigstore.dev/auth", ClientID: "sigstore"}
	if cred, err := s.Get(key); err == nil {
		fmt.Println("signing with", cred)
		return
	}
	// ... log in, then: s.Put(key, &cache.Credential{Key: key, Chain: chain})
}
