package cli

import (
	"fmt"
	"io"

	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/oauth"
)

// loginNotices words what the person must be told during a login (package
// oauth only reports it) and writes it to term, the terminal: one-line
// notices as "gitsign: ...", like every other line gitsign writes there,
// and the instructions to follow as plain text. hint, when
// not nil, receives the hint that follows a notice: how to choose the
// browser when the device flow was chosen for them. Everything from the
// issuer is escaped before it reaches the terminal.
func loginNotices(term io.Writer, hint func(string)) func(oauth.Notice) {
	return func(n oauth.Notice) {
		switch n := n.(type) {
		case oauth.BrowserOpening:
			fmt.Fprintf(term, "Your browser will now be opened to:\n%s\n", printable.String(n.URL))
		case oauth.BrowserFailed:
			fmt.Fprintf(term, "gitsign: could not open a browser: %s\nOpen the URL above in a browser to continue.\n", printable.String(n.Err.Error()))
		case oauth.DeviceCode:
			fmt.Fprintf(term, "To sign in, open this page in a browser on any device:\n\n    %s\n\nand enter the code  %s\n\n",
				printable.String(n.VerificationURI), printable.String(n.UserCode))
			if n.VerificationURIComplete != "" {
				fmt.Fprintf(term, "(or open %s, which fills in the code)\n", printable.String(n.VerificationURIComplete))
			}
			fmt.Fprintf(term, "Waiting for the sign-in (the code expires in %s; press Ctrl-C to cancel)...\n", n.ExpiresIn)
		case oauth.DeviceChosen:
			fmt.Fprintf(term, "gitsign: no browser can be opened here (%s): signing in with a code instead\n", printable.String(n.Why))
			if hint != nil {
				hint("to use a browser anyway, set gitsign.tokenProvider (GITSIGN_TOKEN_PROVIDER) to interactive")
			}
		case oauth.BrowserInstead:
			fmt.Fprintf(term, "gitsign: the issuer does not offer the device flow: signing in with a browser instead\n")
		case oauth.Cancelled:
			fmt.Fprintf(term, "gitsign: sign-in cancelled (%s)\n", printable.String(fmt.Sprint(n.Cause)))
		}
	}
}
