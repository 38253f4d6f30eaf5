package schema

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/internal/backoff"
)

// The options of each constructor are sealed types of their own, as
// franz-go's ProducerOpt and ConsumerOpt are: the compiler refuses a
// consumer's option given to NewProducer. An option that several
// constructors take has a type that is each of their option types.

// SerdeOpt configures a Serde (NewSerde).
type SerdeOpt interface{ applySerde(*config) }

// ProducerOpt configures a Producer (NewProducer).
type ProducerOpt interface{ applyProducer(*config) }

// ConsumerOpt configures a Consumer (NewConsumer).
type ConsumerOpt interface{ applyConsumer(*config) }

// Opt is an option of every constructor: WithSchema, WithObserver.
type Opt interface {
	SerdeOpt
	ProducerOpt
	ConsumerOpt
}

// WriteOpt is an option of a Serde and a Producer, about how values are
// written: WithSubjectStrategy, WithRegistration.
type WriteOpt interface {
	SerdeOpt
	ProducerOpt
}

// ReadOpt is an option of a Serde and a Consumer, about how values are
// read: AnyRecordName.
type ReadOpt interface {
	SerdeOpt
	ConsumerOpt
}

// ClientOpt is an option of a Producer and a Consumer, about their Kafka
// client: WithClient, WithClientOpts.
type ClientOpt interface {
	ProducerOpt
	ConsumerOpt
}

type config struct {
	schema       *Schema
	strategy     SubjectStrategy
	registration Registration
	part         Part

	client     *kgo.Client
	clientOpts []kgo.Opt
	onInvalid  InvalidPolicy
	logger     *slog.Logger
	observer   Observer // nil: nothing is observed

	anyRecordName bool
	backoff       backoff.Policy
	unknownGrace  time.Duration

	concurrency, maxPending, retries int
	drainTimeout                     time.Duration
	retryTopics                      []RetryTopic
	reuseValues                      bool

	given map[string]bool
}

func defaultConfig() config {
	return config{
		strategy:     TopicName,
		registration: AutoRegister(),
		part:         Value,
		onInvalid:    StopOnInvalid(),
		logger:       slog.New(slog.DiscardHandler),
		backoff:      backoff.Policy{Min: 250 * time.Millisecond, Max: 10 * time.Second},
		unknownGrace: 15 * time.Second,
		concurrency:  1,
		maxPending:   DefaultMaxPending,
		retries:      DefaultRetries,
		drainTimeout: DefaultDrainTimeout,
		given:        map[string]bool{},
	}
}

// newConfig applies opts, each through its role's method, and validates
// the result.
func newConfig[O comparable](what string, opts []O, apply func(O, *config)) (config, error) {
	cfg := defaultConfig()
	var none O
	for _, o := range opts {
		if o != none {
			apply(o, &cfg)
		}
	}
	if cfg.strategy == nil {
		return cfg, fmt.Errorf("new %s: nil subject strategy", what)
	}
	if err := cfg.registration.validate(); err != nil {
		return cfg, fmt.Errorf("new %s: %w", what, err)
	}
	if err := cfg.onInvalid.validate(); err != nil {
		return cfg, fmt.Errorf("new %s: %w", what, err)
	}
	if cfg.given[optClient] && cfg.client == nil {
		return cfg, fmt.Errorf("new %s: nil client", what)
	}
	if cfg.given[optClient] && cfg.given[optClientOpts] {
		return cfg, fmt.Errorf("new %s: WithClient and WithClientOpts exclude each other", what)
	}
	if cfg.logger == nil {
		return cfg, fmt.Errorf("new %s: nil logger", what)
	}
	if cfg.unknownGrace < 0 {
		return cfg, fmt.Errorf("new %s: negative unknown id grace %s", what, cfg.unknownGrace)
	}
	if cfg.concurrency < 1 {
		return cfg, fmt.Errorf("new %s: concurrency %d: want at least 1", what, cfg.concurrency)
	}
	if cfg.maxPending < cfg.concurrency {
		return cfg, fmt.Errorf("new %s: max pending %d: want at least the concurrency, %d", what, cfg.maxPending, cfg.concurrency)
	}
	if cfg.retries < RetryForever {
		return cfg, fmt.Errorf("new %s: retries %d: want 0 or more, or RetryForever", what, cfg.retries)
	}
	if cfg.drainTimeout <= 0 {
		return cfg, fmt.Errorf("new %s: drain timeout %s: want more than 0", what, cfg.drainTimeout)
	}
	if b := cfg.backoff; b.Min <= 0 || b.Max < b.Min {
		return cfg, fmt.Errorf("new %s: backoff from %s to %s: want 0 < min <= max", what, b.Min, b.Max)
	}
	return cfg, nil
}

// opt is one option: its name, for the options that exclude each other,
// and what it sets. The types below make it one or more roles' option.
type opt struct {
	n string
	f func(*config)
}

func (o opt) set(c *config) {
	c.given[o.n] = true
	o.f(c)
}

type (
	allOpt      struct{ opt }
	writeOpt    struct{ opt }
	readOpt     struct{ opt }
	clientOpt   struct{ opt }
	serdeOpt    struct{ opt }
	consumerOpt struct{ opt }
)

func (o allOpt) applySerde(c *config)       { o.set(c) }
func (o allOpt) applyProducer(c *config)    { o.set(c) }
func (o allOpt) applyConsumer(c *config)    { o.set(c) }
func (o writeOpt) applySerde(c *config)     { o.set(c) }
func (o writeOpt) applyProducer(c *config)  { o.set(c) }
func (o readOpt) applySerde(c *config)      { o.set(c) }
func (o readOpt) applyConsumer(c *config)   { o.set(c) }
func (o clientOpt) applyProducer(c *config) { o.set(c) }
func (o clientOpt) applyConsumer(c *config) { o.set(c) }
func (o serdeOpt) applySerde(c *config)     { o.set(c) }
func (o consumerOpt) applyConsumer(c *config) {
	o.set(c)
}

const (
	optSchema       = "WithSchema"
	optStrategy     = "WithSubjectStrategy"
	optRegistration = "WithRegistration"
	optKeys         = "ForKeys"
	optClient       = "WithClient"
	optClientOpts   = "WithClientOpts"
	optOnInvalid    = "OnInvalid"
	optLogger       = "WithLogger"
	optObserver     = "WithObserver"
	optAnyName      = "AnyRecordName"
	optBackoff      = "WithBackoff"
	optUnknownGrace = "UnknownIDGrace"
	optConcurrency  = "WithConcurrency"
	optMaxPending   = "WithMaxPending"
	optRetries      = "WithRetries"
	optDrainTimeout = "WithDrainTimeout"
	optRetryTopics  = "WithRetryTopics"
	optReuseValues  = "ReuseValues"
)

// Process's defaults.
const (
	// DefaultMaxPending is how many records Process takes from the client
	// before they are done, by default.
	DefaultMaxPending = 4096
	// DefaultRetries is how many times Process tries a failing record
	// again, by default, before its policy.
	DefaultRetries = 3
	// DefaultDrainTimeout is how long Process waits, by default, for the
	// records being handled when it stops or partitions are revoked.
	DefaultDrainTimeout = 30 * time.Second
)

// WithConcurrency sets how many records Process handles at once, records
// of one key always one at a time and in order, overriding the default 1.
func WithConcurrency(n int) ConsumerOpt {
	return consumerOpt{opt{optConcurrency, func(c *config) { c.concurrency = n }}}
}

// WithMaxPending bounds the records Process has taken from the client and
// not yet done (queued behind their keys or being handled), overriding
// DefaultMaxPending. It must be at least the concurrency.
func WithMaxPending(n int) ConsumerOpt {
	return consumerOpt{opt{optMaxPending, func(c *config) { c.maxPending = n }}}
}

// WithRetries sets how many times Process tries a record again, in place
// with WithBackoff's backoff, after its handler fails, overriding
// DefaultRetries: 0 hands a failure to the policy at once, RetryForever
// never does (an error made with Reject always does).
func WithRetries(n int) ConsumerOpt {
	return consumerOpt{opt{optRetries, func(c *config) { c.retries = n }}}
}

// WithDrainTimeout sets how long Process waits for the records being
// handled when it stops or the group revokes their partitions, overriding
// DefaultDrainTimeout. At shutdown, it then cancels the handlers' context.
func WithDrainTimeout(d time.Duration) ConsumerOpt {
	return consumerOpt{opt{optDrainTimeout, func(c *config) { c.drainTimeout = d }}}
}

// WithSchema sets the schema values are written with (and, for a
// consumer, read into). The default is the schema Derive gives for T; a T
// that is not a struct, such as map[string]any, needs WithSchema unless the
// registration is UseLatest or PinnedID.
func WithSchema(s *Schema) Opt { return allOpt{opt{optSchema, func(c *config) { c.schema = s }}} }

// AnyRecordName makes a Serde or Consumer without WithSchema read records
// whose writer's record name is not T's, matching fields by name. By
// default such a record is refused as incompatible (ErrIncompatible): a
// record of another type would otherwise read as a T with every field
// zero. Names are compared without namespaces, and aliases count. A reader
// given by WithSchema follows Avro's resolution rules instead, where only
// an alias in the reader's schema admits another name.
func AnyRecordName() ReadOpt {
	return readOpt{opt{optAnyName, func(c *config) { c.anyRecordName = true }}}
}

// WithSubjectStrategy sets how subjects are named, overriding the default
// TopicName.
func WithSubjectStrategy(s SubjectStrategy) WriteOpt {
	return writeOpt{opt{optStrategy, func(c *config) { c.strategy = s }}}
}

// WithRegistration sets how a schema gets its ID, overriding the default
// AutoRegister.
func WithRegistration(r Registration) WriteOpt {
	return writeOpt{opt{optRegistration, func(c *config) { c.registration = r }}}
}

// ForKeys makes a Serde encode record keys: its subjects are the key
// subjects ("<topic>-key" under TopicName). Values are the default.
func ForKeys() SerdeOpt { return serdeOpt{opt{optKeys, func(c *config) { c.part = Key }}} }

// WithClient makes a Producer or Consumer use an existing client instead of
// building one. The caller keeps ownership: Close does not close it, and
// its options (acks, group, topics) are the caller's. A Consumer's client
// must consume the group with kgo.AutoCommitMarks.
func WithClient(cl *kgo.Client) ClientOpt {
	return clientOpt{opt{optClient, func(c *config) { c.client = cl }}}
}

// WithClientOpts adds options for the client a Producer or Consumer builds,
// e.g. kgo.SeedBrokers (required) and SASL or TLS settings. They come after
// streamkit's defaults and so override them.
func WithClientOpts(opts ...kgo.Opt) ClientOpt {
	return clientOpt{opt{optClientOpts, func(c *config) { c.clientOpts = append(c.clientOpts, opts...) }}}
}

// WithBackoff sets how long a Consumer waits before it tries again a
// record that failed transiently (see HoldError), or that Process's
// handler failed on (see WithRetries): min after the first failure,
// doubling up to max, with jitter. The default is 250ms to 10s.
func WithBackoff(min, max time.Duration) ConsumerOpt {
	return consumerOpt{opt{optBackoff, func(c *config) { c.backoff = backoff.Policy{Min: min, Max: max} }}}
}

// UnknownIDGrace sets how long a Consumer keeps asking before it believes
// the registry that a record's schema ID does not exist, overriding the
// default 15s. A registry that restarts from its storage (Apicurio with
// kafkasql replaying its journal, for seconds) answers "not found" for IDs
// it has not loaded yet; until the answer has held for d, the record is
// held back and retried like any transient failure (see HoldError), and
// only then handed to the InvalidPolicy. Later records naming the same ID
// are handled at once. 0 believes the first answer.
func UnknownIDGrace(d time.Duration) ConsumerOpt {
	return consumerOpt{opt{optUnknownGrace, func(c *config) { c.unknownGrace = d }}}
}

// OnInvalid sets what a Consumer does with a record it cannot decode,
// overriding the default StopOnInvalid.
func OnInvalid(p InvalidPolicy) ConsumerOpt {
	return consumerOpt{opt{optOnInvalid, func(c *config) { c.onInvalid = p }}}
}

// WithLogger sets the logger, overriding the default that discards. It
// must be safe for concurrent use.
func WithLogger(l *slog.Logger) ConsumerOpt {
	return consumerOpt{opt{optLogger, func(c *config) { c.logger = l }}}
}

// Observer is told about the events of a Serde, Producer or Consumer that
// metrics count; package metrics' ClientMetrics implements it. Its methods
// are called synchronously from the goroutine where the event happens, so
// an Observer must be safe for concurrent use and fast, and must not
// block. None is called on the path of a record that encodes or decodes
// with cached schemas.
type Observer interface {
	// OnEncodeError is called when a value for topic cannot be encoded:
	// its schema ID cannot be found or the value does not fit the schema.
	OnEncodeError(topic string, err error)
	// OnDecodeError is called when a Consumer cannot decode a record of
	// topic, whatever its InvalidPolicy. Serde.Decode, which is not told
	// the topic, does not call it.
	OnDecodeError(topic string, err error)
	// OnDeadLetter is called when a Consumer has written an undecodable
	// record of topic to its dead-letter topic.
	OnDeadLetter(topic string)
	// OnSkip is called when a Consumer drops an undecodable record of
	// topic under SkipInvalid.
	OnSkip(topic string)
	// OnHold is called when a Consumer holds back a partition of topic at
	// a record that failed transiently or whose dead letter could not be
	// written; err is the *HoldError that Poll returns.
	OnHold(topic string, err error)
	// OnSchemaCache is called when a Serde asks the Registry for a schema
	// ID or a schema it has not cached itself (its first record of a topic
	// or of a schema ID): hit is true when the Registry answers from its
	// cache, false when it has to ask the registry.
	OnSchemaCache(hit bool)
	// OnRegistryRequest is called after each request a Serde makes to the
	// schema registry, with err nil on success. op is "schema_by_id",
	// "register", "lookup", "versions" (a lookup by canonical form) or
	// "latest".
	OnRegistryRequest(op string, err error)
}

// WithObserver makes a Serde, Producer or Consumer report its events to o
// (see Observer). The default, like a nil o, reports nothing and costs
// nothing. o must be safe for concurrent use and fast.
func WithObserver(o Observer) Opt {
	return allOpt{opt{optObserver, func(c *config) { c.observer = o }}}
}

type registrationMode int

const (
	autoRegister registrationMode = iota
	lookupOnly
	useLatest
	pinnedID
)

// Registration says how a Serde finds the ID of the schema it writes with.
type Registration struct {
	mode registrationMode
	id   int
}

// AutoRegister registers the schema under its subject on first use (the
// registry returns the existing ID when it is already there). For
// development; the registry still refuses an incompatible schema.
func AutoRegister() Registration { return Registration{mode: autoRegister} }

// LookupOnly requires the schema to be registered already, e.g. by the
// team's CI; a Producer built with it fails in NewProducer, before any
// record is sent, when it is not. For production.
func LookupOnly() Registration { return Registration{mode: lookupOnly} }

// UseLatest writes with the latest version registered under the subject,
// read once per topic.
func UseLatest() Registration { return Registration{mode: useLatest} }

// PinnedID writes with the schema that has this ID.
func PinnedID(id int) Registration { return Registration{mode: pinnedID, id: id} }

func (r Registration) validate() error {
	if r.mode == pinnedID && r.id <= 0 {
		return fmt.Errorf("pinned schema id %d: must be positive", r.id)
	}
	return nil
}

func (r Registration) String() string {
	switch r.mode {
	case lookupOnly:
		return "lookup-only"
	case useLatest:
		return "use-latest"
	case pinnedID:
		return fmt.Sprintf("pinned id %d", r.id)
	default:
		return "auto-register"
	}
}

type invalidMode int

const (
	stopOnInvalid invalidMode = iota
	skipInvalid
	deadLetter
)

// InvalidPolicy says what a Consumer does with a record it can never
// decode (see Permanent): a wrong magic byte, a schema ID the registry
// does not know, a truncated or corrupt payload, or a writer's schema that
// cannot resolve into T. A record that fails for a transient reason, such
// as the registry being down, is never subject to the policy: the Consumer
// holds its partition and tries it again (see HoldError).
type InvalidPolicy struct {
	mode  invalidMode
	topic string
}

// StopOnInvalid makes Poll return a *DecodeError and keep returning it; the
// record and those after it in its partition are not committed, so a
// restarted consumer meets it again. The default.
func StopOnInvalid() InvalidPolicy { return InvalidPolicy{mode: stopOnInvalid} }

// SkipInvalid drops the record, counts it in ConsumerStats.Skipped and logs
// it at warn level.
func SkipInvalid() InvalidPolicy { return InvalidPolicy{mode: skipInvalid} }

// DeadLetter writes the record, byte for byte, to topic, with headers that
// say where it came from and why it failed (see the Header constants), and
// counts it in ConsumerStats.DeadLettered. The topic must exist. When the
// write fails, the record's partition is held back at the record (a
// *HoldError) until a later write succeeds: nothing after it is returned
// or committed before.
func DeadLetter(topic string) InvalidPolicy { return InvalidPolicy{mode: deadLetter, topic: topic} }

func (p InvalidPolicy) validate() error {
	if p.mode == deadLetter && p.topic == "" {
		return fmt.Errorf("dead-letter policy: empty topic")
	}
	return nil
}
