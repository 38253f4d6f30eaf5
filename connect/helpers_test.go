package connect

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"
)

// fakeWorker is an httptest server that answers like a Kafka Connect
// worker. Handlers are keyed by "METHOD /escaped/path" (the path exactly as
// it went over the wire, so tests see how names were escaped); a request
// without a handler gets the 404 Jersey gives an unknown resource. Every
// request is logged.
type fakeWorker struct {
	*httptest.Server

	mu       sync.Mutex
	handlers map[string]http.HandlerFunc
	log      []loggedRequest
}

// loggedRequest is one request a fakeWorker got.
type loggedRequest struct {
	Method string
	Path   string // escaped
	Query  string // raw
	Body   string
	Header http.Header
	At     time.Time
}

// Key returns the request's handler key, "METHOD /escaped/path".
func (r loggedRequest) Key() string { return r.Method + " " + r.Path }

// newFakeWorker starts a fakeWorker that t closes.
func newFakeWorker(t *testing.T) *fakeWorker {
	t.Helper()
	w := &fakeWorker{handlers: map[string]http.HandlerFunc{}}
	w.Server = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.Close)
	return w
}

func (w *fakeWorker) serve(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	lr := loggedRequest{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Body: string(body), Header: r.Header.Clone(), At: time.Now(),
	}
	w.mu.Lock()
	w.log = append(w.log, lr)
	h := w.handlers[lr.Key()]
	w.mu.Unlock()
	if h == nil {
		h = replyError(http.StatusNotFound, "HTTP 404 Not Found")
	}
	h(rw, r)
}

// handle sets the handler for key, "METHOD /escaped/path".
func (w *fakeWorker) handle(key string, h http.HandlerFunc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handlers[key] = h
}

// requests returns the requests so far.
func (w *fakeWorker) requests() []loggedRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]loggedRequest(nil), w.log...)
}

// reply answers status with body as JSON; an empty body is sent as none.
func reply(status int, body string) http.HandlerFunc {
	return func(rw http.ResponseWriter, _ *http.Request) {
		if body != "" {
			rw.Header().Set("Content-Type", "application/json")
		}
		rw.WriteHeader(status)
		io.WriteString(rw, body)
	}
}

// replyError answers like a worker refusing a request:
// {"error_code":status,"message":msg}.
func replyError(status int, msg string) http.HandlerFunc {
	b, _ := json.Marshal(map[string]any{"error_code": status, "message": msg})
	return reply(status, string(b))
}

// sequence answers the n-th request with hs[n], and every request after
// the last with the last.
func sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hs[min(n, len(hs)-1)]
		n++
		mu.Unlock()
		h(rw, r)
	}
}

// newTestClient returns a Client of urls with millisecond backoffs, so
// retries cost nothing; opts come after and override.
func newTestClient(t *testing.T, urls []string, opts ...ClientOpt) *Client {
	t.Helper()
	all := append([]ClientOpt{WithURLs(urls...), WithBackoff(time.Millisecond, 2*time.Millisecond)}, opts...)
	c, err := New(all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// sameJSON reports whether two JSON texts hold the same value; an empty
// text is no value.
func sameJSON(t *testing.T, got, want string) bool {
	t.Helper()
	if got == "" || want == "" {
		return got == want
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("decode %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("decode %q: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}
