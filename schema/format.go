package schema

import (
	"fmt"
	"io"
	"net/url"

	"github.com/twmb/franz-go/pkg/sr"
)

// Format prints the registry as its URLs, passwords redacted, for every
// verb. The wrapped *sr.Client holds its URLs, which may carry a password,
// and a bearer token in plain fields, which fmt would print with a verb
// such as %s.
func (r *Registry) Format(f fmt.State, _ rune) {
	if r == nil || r.cl == nil {
		_, _ = io.WriteString(f, "schema.Registry(nil)")
		return
	}
	urls, _ := r.cl.OptValue(sr.URLs).([]string)
	shown := make([]string, len(urls))
	for i, u := range urls {
		shown[i] = redactedURL(u)
	}
	_, _ = fmt.Fprintf(f, "schema.Registry{urls: %v}", shown)
}

var _ fmt.Formatter = (*Registry)(nil)

// redactedURL returns raw with any password replaced, or a marker when it
// does not parse.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable url]"
	}
	return u.Redacted()
}
