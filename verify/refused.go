package verify

import (
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/certinfo"
)

// NotAcceptedError is a good signature whose signer no rule of the
// policy accepts. Rules are the origins of the rules consulted, in
// policy order: "FILE:LINE" for allowed-signers lines, "the identity
// policy" for identity and issuer rules.
type NotAcceptedError struct {
	Cert  *x509.Certificate
	Rules []string
}

// Error says who signed and which rules did not accept them.
func (e *NotAcceptedError) Error() string {
	return fmt.Sprintf("signed by %s, not accepted by %s", certinfo.Describe(e.Cert), DescribeRules(e.Rules))
}

// notAccepted is the Mismatch error for a signer no rule of p accepts.
func notAccepted(cert *x509.Certificate, p policy) *Error {
	origins := make([]string, len(p.rules))
	for i, r := range p.rules {
		origins[i] = r.origin
	}
	return &Error{Kind: Mismatch, Cert: cert, Err: &NotAcceptedError{Cert: cert, Rules: origins}}
}

// DescribeRules names rules by their origins, in a few words: the lines of
// each allowed-signers file as ranges (".gitsigners lines 1-3 and 7"),
// other origins as they are, each once.
func DescribeRules(origins []string) string {
	var order []string
	lines := map[string][]int{}
	for _, o := range origins {
		name, n := o, 0
		if i := strings.LastIndexByte(o, ':'); i > 0 {
			if v, err := strconv.Atoi(o[i+1:]); err == nil && v > 0 {
				name, n = o[:i], v
			}
		}
		if _, seen := lines[name]; !seen {
			order = append(order, name)
		}
		if n > 0 {
			lines[name] = append(lines[name], n)
		} else if lines[name] == nil {
			lines[name] = []int{}
		}
	}
	if len(order) == 0 {
		return "no rule"
	}
	parts := make([]string, len(order))
	for i, name := range order {
		parts[i] = name + lineRanges(lines[name])
	}
	return strings.Join(parts, " and ")
}

// lineRanges is " line 3", " lines 1-3 and 7", " lines 1, 3 and 9-12"
// for line numbers in increasing order; "" for none.
func lineRanges(ns []int) string {
	if len(ns) == 0 {
		return ""
	}
	var runs []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if j == i {
			runs = append(runs, strconv.Itoa(ns[i]))
		} else {
			runs = append(runs, strconv.Itoa(ns[i])+"-"+strconv.Itoa(ns[j]))
		}
		i = j + 1
	}
	if len(ns) == 1 {
		return " line " + runs[0]
	}
	if len(runs) > 4 {
		return fmt.Sprintf(" lines %d-%d (%d rules)", ns[0], ns[len(ns)-1], len(ns))
	}
	if len(runs) == 1 {
		return " lines " + runs[0]
	}
	return " lines " + strings.Join(runs[:len(runs)-1], ", ") + " and " + runs[len(runs)-1]
}
