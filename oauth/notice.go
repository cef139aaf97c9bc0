package oauth

import "time"

// A Notice is something the person signing in must be told while a token
// source runs: where to go, what code to enter, why the flow changed.
// This package words nothing for a person; Options.Notify receives each
// notice and the caller decides how it is said, and where. Text in a
// notice that came from the issuer (URLs, codes) is as the issuer sent it:
// the caller must escape it before it reaches a terminal.
type Notice interface{ notice() }

// BrowserOpening: the browser flow is about to open URL; the person can
// open it by hand.
type BrowserOpening struct{ URL string }

// BrowserFailed: the browser could not be opened (Err); the flow keeps
// waiting for the person to open the URL of the BrowserOpening notice.
type BrowserFailed struct{ Err error }

// DeviceCode: the device flow's instructions. VerificationURIComplete,
// when not empty, is an http(s) URL that fills in the code.
type DeviceCode struct {
	VerificationURI         string
	VerificationURIComplete string
	UserCode                string
	ExpiresIn               time.Duration
}

// DeviceChosen: the automatic choice of token source took the device
// flow because no browser can reach the person (Why).
type DeviceChosen struct{ Why string }

// BrowserInstead: the automatic choice took the device flow, but the
// issuer does not offer it, so the browser flow runs instead.
type BrowserInstead struct{}

// Cancelled: the person (or a signal) cancelled the login while it waited.
type Cancelled struct{ Cause error }

func (BrowserOpening) notice() {}
func (BrowserFailed) notice()  {}
func (DeviceCode) notice()     {}
func (DeviceChosen) notice()   {}
func (BrowserInstead) notice() {}
func (Cancelled) notice()      {}

// notify hands n to Options.Notify, when set.
func (o *Options) notify(n Notice) {
	if o.Notify != nil {
		o.Notify(n)
	}
}
