package schema

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"golang.org/x/sync/singleflight"
)

// Registry is a schema registry client with the caches the data plane
// needs: subject and schema to ID, and ID to parsed schema. Concurrent
// misses for the same key make one request. IDs and the schemas behind them
// never change in a registry, so positive entries never expire; a "no such
// schema ID" answer is remembered for a minute, so a burst of records
// naming an unknown ID costs one request, not one each.
//
// The registry's latest version of a subject is not cached here: a Serde
// that uses it reads it once, when it first needs it.
//
// A Registry is safe for concurrent use by multiple goroutines.
type Registry struct {
	cl *sr.Client

	mu       sync.RWMutex
	byID     map[int]*Schema
	ids      map[subjectSchema]int
	notFound map[int]time.Time

	flight singleflight.Group
	now    func() time.Time
}

type subjectSchema struct {
	subject     string
	fingerprint [32]byte
}

const notFoundTTL = time.Minute

// EnvSchemaRegistryURL is the variable NewRegistryFromEnvironment reads:
// one or more registry URLs, comma-separated, e.g.
// http://127.0.0.1:8081/apis/ccompat/v7.
const EnvSchemaRegistryURL = "STREAMKIT_SCHEMA_REGISTRY_URL"

// NewRegistry wraps an existing registry client. Authentication, TLS and
// several registry URLs are the client's options (sr.BasicAuth,
// sr.BearerToken, sr.DialTLSConfig, sr.URLs). A nil client is an error.
func NewRegistry(cl *sr.Client) (*Registry, error) {
	if cl == nil {
		return nil, errors.New("new registry: nil registry client")
	}
	return &Registry{
		cl:       cl,
		byID:     make(map[int]*Schema),
		ids:      make(map[subjectSchema]int),
		notFound: make(map[int]time.Time),
		now:      time.Now,
	}, nil
}

// NewRegistryFromOptions builds the registry client from its options, e.g.
// sr.URLs("http://127.0.0.1:8081/apis/ccompat/v7"). Without sr.URLs the
// client would use http://localhost:8081, so sr.URLs is required.
func NewRegistryFromOptions(opts ...sr.ClientOpt) (*Registry, error) {
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("new registry client: %w", err)
	}
	return NewRegistry(cl)
}

// NewRegistryFromEnvironment builds the registry client for the URLs in
// EnvSchemaRegistryURL (STREAMKIT_SCHEMA_REGISTRY_URL), comma-separated,
// with opts after them (authentication, TLS). It reads no other variable,
// and an unset or empty one is an error.
func NewRegistryFromEnvironment(opts ...sr.ClientOpt) (*Registry, error) {
	var urls []string
	for _, u := range strings.Split(os.Getenv(EnvSchemaRegistryURL), ",") {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("new registry: %s is not set", EnvSchemaRegistryURL)
	}
	return NewRegistryFromOptions(append([]sr.ClientOpt{sr.URLs(urls...)}, opts...)...)
}

// Client returns the wrapped registry client, for the registry API calls
// Registry does not offer. Calls made through it bypass the caches.
func (r *Registry) Client() *sr.Client { return r.cl }

// SchemaByID returns the schema with the given ID. After the first call for
// an ID it makes no request.
func (r *Registry) SchemaByID(ctx context.Context, id int) (*Schema, error) {
	return r.schemaByID(ctx, id, nil, time.Time{})
}

// schemaByID is SchemaByID reporting to obs, which may be nil. So are
// register, lookup and latest. A remembered "no such ID" answer given
// before notBefore is not used: the registry is asked again.
func (r *Registry) schemaByID(ctx context.Context, id int, obs Observer, notBefore time.Time) (*Schema, error) {
	r.mu.RLock()
	s, ok := r.byID[id]
	miss, negative := r.notFound[id]
	r.mu.RUnlock()
	if ok {
		observeCache(obs, true)
		return s, nil
	}
	if negative && r.now().Sub(miss) < notFoundTTL && !miss.Before(notBefore) {
		observeCache(obs, true)
		return nil, fmt.Errorf("schema id %d: %w", id, ErrUnknownSchemaID)
	}
	observeCache(obs, false)
	v, err, _ := r.flight.Do("id/"+strconv.Itoa(id), func() (any, error) {
		got, err := r.cl.SchemaByID(ctx, id)
		if err != nil {
			rerr := registryErr(ctx, fmt.Sprintf("get schema id %d", id), err)
			observeRequest(obs, "schema_by_id", rerr)
			if isNotFound(rerr) {
				r.mu.Lock()
				r.notFound[id] = r.now()
				r.mu.Unlock()
				return nil, fmt.Errorf("%w: %w", ErrUnknownSchemaID, rerr)
			}
			return nil, rerr
		}
		observeRequest(obs, "schema_by_id", nil)
		if strings.TrimSpace(got.Schema) == "" {
			return nil, fmt.Errorf("get schema id %d: %w: no schema in the answer", id, ErrMalformedResponse)
		}
		if got.Type != sr.TypeAvro {
			return nil, fmt.Errorf("schema id %d is %s, not avro: %w", id, got.Type, ErrInvalidSchema)
		}
		s, err := Parse(got.Schema)
		if err != nil {
			return nil, fmt.Errorf("schema id %d: %w", id, err)
		}
		r.mu.Lock()
		r.byID[id] = s
		delete(r.notFound, id)
		r.mu.Unlock()
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Schema), nil
}

// Register registers s under subject, or finds it there already, and
// returns its ID. The registry refuses a schema that breaks the subject's
// compatibility level with an error matching ErrIncompatible.
func (r *Registry) Register(ctx context.Context, subject string, s *Schema) (int, error) {
	return r.register(ctx, subject, s, nil)
}

func (r *Registry) register(ctx context.Context, subject string, s *Schema, obs Observer) (int, error) {
	return r.idFor(ctx, "register", subject, s, obs, func() (sr.SubjectSchema, error) {
		// One request. sr.Client.CreateSchema would also fetch every
		// subject that uses the same schema, all at once: on a registry
		// where hundreds of subjects share a schema that is hundreds of
		// requests, enough to exhaust a proxy's connections.
		id, err := r.cl.RegisterSchema(ctx, subject, sr.Schema{Schema: s.text, Type: sr.TypeAvro}, -1, -1)
		return sr.SubjectSchema{Subject: subject, ID: id}, err
	})
}

// Lookup returns the ID of s under subject without registering anything.
// A version registered with other text that has the same Parsing Canonical
// Form (the same schema without its docs, defaults, aliases and
// formatting, as Confluent's serializer registers it) is found too. A
// schema that is not registered there is an error matching
// ErrNotRegistered.
func (r *Registry) Lookup(ctx context.Context, subject string, s *Schema) (int, error) {
	return r.lookup(ctx, subject, s, nil)
}

func (r *Registry) lookup(ctx context.Context, subject string, s *Schema, obs Observer) (int, error) {
	id, err := r.idFor(ctx, "look up", subject, s, obs, func() (sr.SubjectSchema, error) {
		return r.cl.LookupSchema(ctx, subject, sr.Schema{Schema: s.text, Type: sr.TypeAvro})
	})
	if err == nil || !isNotFound(err) || errors.Is(err, ErrSubjectNotFound) {
		if err != nil {
			return 0, fmt.Errorf("%w: %q (%s): %w", ErrNotRegistered, subject, s.describe(), err)
		}
		return id, nil
	}
	// The registry's lookup compares text. A client that registered the
	// same schema with other text (Confluent's serializer drops defaults
	// and docs) is found by its Parsing Canonical Form.
	id, ok, cerr := r.lookupCanonical(ctx, subject, s, obs)
	switch {
	case ok:
		return id, nil
	case cerr != nil && !isNotFound(cerr):
		return 0, cerr
	}
	return 0, fmt.Errorf("%w: %q (%s): %w", ErrNotRegistered, subject, s.describe(), err)
}

// lookupCanonical finds, among subject's versions from the latest, one
// whose canonical form is s's, and caches its ID for s.
func (r *Registry) lookupCanonical(ctx context.Context, subject string, s *Schema, obs Observer) (int, bool, error) {
	versions, err := r.cl.Schemas(ctx, subject)
	if err != nil {
		rerr := registryErr(ctx, fmt.Sprintf("list the versions of %q", subject), err)
		observeRequest(obs, "versions", rerr)
		return 0, false, rerr
	}
	observeRequest(obs, "versions", nil)
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		if v.Type != sr.TypeAvro || v.ID <= 0 {
			continue
		}
		parsed, err := Parse(v.Schema.Schema)
		if err != nil || parsed.Fingerprint() != s.Fingerprint() {
			continue
		}
		r.mu.Lock()
		r.ids[subjectSchema{subject, s.Fingerprint()}] = v.ID
		if _, known := r.byID[v.ID]; !known {
			r.byID[v.ID] = parsed
		}
		r.mu.Unlock()
		return v.ID, true, nil
	}
	return 0, false, nil
}

func (r *Registry) idFor(ctx context.Context, verb, subject string, s *Schema, obs Observer, call func() (sr.SubjectSchema, error)) (int, error) {
	key := subjectSchema{subject, s.Fingerprint()}
	r.mu.RLock()
	id, ok := r.ids[key]
	r.mu.RUnlock()
	if ok {
		observeCache(obs, true)
		return id, nil
	}
	observeCache(obs, false)
	op := "register" // the Observer's name of verb
	if verb != op {
		op = "lookup"
	}
	v, err, _ := r.flight.Do(fmt.Sprintf("%s/%s/%x", verb, subject, key.fingerprint), func() (any, error) {
		ss, err := call()
		if err != nil {
			rerr := registryErr(ctx, fmt.Sprintf("%s schema under %q", verb, subject), err)
			observeRequest(obs, op, rerr)
			return 0, rerr
		}
		if ss.ID <= 0 {
			// An answer of {} or an ID of 0 would frame every record with
			// schema ID 0, which no reader can resolve.
			rerr := fmt.Errorf("%s schema under %q: %w: schema id %d", verb, subject, ErrMalformedResponse, ss.ID)
			observeRequest(obs, op, rerr)
			return 0, rerr
		}
		observeRequest(obs, op, nil)
		r.mu.Lock()
		r.ids[key] = ss.ID
		if _, known := r.byID[ss.ID]; !known {
			r.byID[ss.ID] = s
		}
		r.mu.Unlock()
		return ss.ID, nil
	})
	if err != nil {
		return 0, err
	}
	return v.(int), nil
}

// SubjectVersion is one version of a subject.
type SubjectVersion struct {
	Subject string
	Version int
	ID      int
	Schema  *Schema
}

// Latest returns the latest version of subject. It always asks the
// registry.
func (r *Registry) Latest(ctx context.Context, subject string) (SubjectVersion, error) {
	return r.latest(ctx, subject, nil)
}

func (r *Registry) latest(ctx context.Context, subject string, obs Observer) (SubjectVersion, error) {
	ss, err := r.cl.SchemaByVersion(ctx, subject, -1)
	if err != nil {
		rerr := registryErr(ctx, fmt.Sprintf("get latest version of %q", subject), err)
		observeRequest(obs, "latest", rerr)
		return SubjectVersion{}, rerr
	}
	if ss.ID <= 0 || strings.TrimSpace(ss.Schema.Schema) == "" {
		rerr := fmt.Errorf("get latest version of %q: %w: schema id %d, %d bytes of schema", subject, ErrMalformedResponse, ss.ID, len(ss.Schema.Schema))
		observeRequest(obs, "latest", rerr)
		return SubjectVersion{}, rerr
	}
	observeRequest(obs, "latest", nil)
	s, err := Parse(ss.Schema.Schema)
	if err != nil {
		return SubjectVersion{}, fmt.Errorf("latest version of %q: %w", subject, err)
	}
	r.mu.Lock()
	if cached, ok := r.byID[ss.ID]; ok {
		s = cached
	} else {
		r.byID[ss.ID] = s
	}
	r.ids[subjectSchema{subject, s.Fingerprint()}] = ss.ID
	r.mu.Unlock()
	return SubjectVersion{Subject: ss.Subject, Version: ss.Version, ID: ss.ID, Schema: s}, nil
}

func observeCache(obs Observer, hit bool) {
	if obs != nil {
		obs.OnSchemaCache(hit)
	}
}

func observeRequest(obs Observer, op string, err error) {
	if obs != nil {
		obs.OnRegistryRequest(op, err)
	}
}

func isNotFound(err error) bool {
	return errors.Is(err, ErrSubjectNotFound) || errors.Is(err, ErrSchemaNotFound) || errors.Is(err, ErrVersionNotFound)
}
