package schema

import (
	"fmt"
	"io"
	"net/url"
	"reflect"

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

// String returns the policy's name, and the dead-letter topic.
func (p InvalidPolicy) String() string {
	switch p.mode {
	case skipInvalid:
		return "skip"
	case deadLetter:
		return "dead-letter to " + p.topic
	default:
		return "stop"
	}
}

// Format prints the producer as its topic and value type, for every verb:
// its fields hold a live client that other goroutines change while fmt
// would read them, and options that may carry credentials.
func (p *Producer[T]) Format(f fmt.State, _ rune) {
	if p == nil {
		_, _ = io.WriteString(f, "schema.Producer(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "schema.Producer[%v]{topic: %s}", reflect.TypeFor[T](), p.topic)
}

// Format prints the consumer as its value type and invalid-record policy,
// for every verb, for the reasons Producer's Format gives.
func (c *Consumer[T]) Format(f fmt.State, _ rune) {
	if c == nil {
		_, _ = io.WriteString(f, "schema.Consumer(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "schema.Consumer[%v]{on invalid: %s}", reflect.TypeFor[T](), c.policy)
}

// Format prints the serde as its value type and registration, for every
// verb: its caches change under other goroutines.
func (s *Serde[T]) Format(f fmt.State, _ rune) {
	if s == nil {
		_, _ = io.WriteString(f, "schema.Serde(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "schema.Serde[%v]{registration: %s}", reflect.TypeFor[T](), s.cfg.registration)
}

var (
	_ fmt.Formatter = (*Producer[struct{}])(nil)
	_ fmt.Formatter = (*Consumer[struct{}])(nil)
	_ fmt.Formatter = (*Serde[struct{}])(nil)
)
