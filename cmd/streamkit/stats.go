package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// stats counts the requests a command makes to each component, by kind:
// a Kafka request by its API, an HTTP request by its method and path with
// the names in it replaced by {name}. -stats prints them, so that a team
// can see what a plan costs the platform and that it does not grow faster
// than the manifests.
type stats struct {
	start time.Time
	ns    string // the team's namespace: path segments starting with it are names

	mu     sync.Mutex
	counts map[string]map[string]int // component -> kind -> requests
}

func newStats(ns string) *stats {
	return &stats{start: time.Now(), ns: ns, counts: map[string]map[string]int{}}
}

func (s *stats) add(component, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts[component] == nil {
		s.counts[component] = map[string]int{}
	}
	s.counts[component][kind]++
}

// kafkaHook counts the requests written to brokers.
type kafkaHook struct{ s *stats }

var _ kgo.HookBrokerWrite = kafkaHook{}

func (h kafkaHook) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, _ error) {
	h.s.add("kafka", kmsg.NameForKey(key))
}

// transport counts the HTTP requests of one component.
type transport struct {
	s         *stats
	component string
	next      http.RoundTripper
}

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.s.add(t.component, r.Method+" "+t.s.kind(r.URL.Path))
	return t.next.RoundTrip(r)
}

// httpClient is a client of component that counts its requests; it keeps
// http.DefaultTransport's settings.
func (s *stats) httpClient(component string, tlsConfig *tls.Config) *http.Client {
	next := http.DefaultTransport
	if tlsConfig != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tlsConfig
		next = tr
	}
	return &http.Client{Transport: transport{s: s, component: component, next: next}}
}

// kind is path with each name in it replaced: a segment that starts with
// the namespace, a number, and a connector plugin's class.
func (s *stats) kind(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		switch {
		case s.ns != "" && strings.HasPrefix(seg, s.ns):
			segs[i] = "{name}"
		case seg != "" && strings.Trim(seg, "0123456789") == "":
			segs[i] = "{n}"
		case i > 0 && segs[i-1] == "connector-plugins":
			segs[i] = "{class}"
		}
	}
	return strings.Join(segs, "/")
}

// write prints the time taken and the counts, one line per component.
func (s *stats) write(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(w, "stats: %s\n", time.Since(s.start).Round(time.Millisecond))
	for _, c := range slices.Sorted(maps.Keys(s.counts)) {
		var parts []string
		total := 0
		for _, k := range slices.Sorted(maps.Keys(s.counts[c])) {
			parts = append(parts, fmt.Sprintf("%s=%d", k, s.counts[c][k]))
			total += s.counts[c][k]
		}
		fmt.Fprintf(w, "stats: %s %d requests: %s\n", c, total, strings.Join(parts, ", "))
	}
}
