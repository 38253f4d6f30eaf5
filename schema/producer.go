package schema

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/internal/kafkaauth"
)

// Message is one record to produce.
type Message[T any] struct {
	// Key is the record key as bytes: a string's bytes, raw bytes, or a key
	// encoded with a Serde built with ForKeys. Nil means no key.
	Key []byte
	// Value is encoded with the producer's Serde.
	Value T
	// Headers are passed through as they are.
	Headers []kgo.RecordHeader
	// Timestamp is the record's time; the zero value means now.
	Timestamp time.Time
	// Tombstone writes the record with a null value, and Value is not
	// encoded: with a key, a tombstone deletes the key from a compacted
	// topic, and its row from a JDBC sink's table (delete.enabled).
	Tombstone bool
}

// Producer writes values of type T to one topic in the Confluent wire
// format.
//
// By default it builds its own client with idempotent writes and
// acks=all (franz-go's defaults, stated here because the guarantee matters:
// no duplicates on retry, no loss on a leader change). That client
// watches its connections: when a broker refuses the credentials, every
// record not yet sent fails at once with an error matching
// ErrAuthentication (an *AuthError), as in Kafka's Java client, instead
// of waiting forever; records produced later try again, so credentials
// that are fixed (or rotated in, see package secrets) take effect without
// a restart. It is safe for concurrent use by multiple goroutines.
type Producer[T any] struct {
	cl     *kgo.Client
	auth   *kafkaauth.Watch // nil when the caller built the client
	owned  bool
	topic  string
	serde  *Serde[T]
	closed atomic.Bool
}

// NewProducer returns a producer of T to topic. It takes WithSchema,
// WithSubjectStrategy, WithRegistration, WithObserver, and either
// WithClient or WithClientOpts (with kgo.SeedBrokers).
//
// It finds the schema ID before it returns: under LookupOnly a schema the
// registry lacks, and under AutoRegister a schema the registry refuses,
// are errors here, before any record is sent.
func NewProducer[T any](ctx context.Context, reg *Registry, topic string, opts ...ProducerOpt) (*Producer[T], error) {
	cfg, err := newConfig("producer", opts, ProducerOpt.applyProducer)
	if err != nil {
		return nil, err
	}
	if topic == "" {
		return nil, errors.New("new producer: empty topic")
	}
	serde, err := newSerde[T](reg, cfg)
	if err != nil {
		return nil, fmt.Errorf("new producer: %w", err)
	}
	if _, err := serde.Prepare(ctx, topic); err != nil {
		return nil, fmt.Errorf("new producer for %q: %w", topic, err)
	}
	p := &Producer[T]{cl: cfg.client, topic: topic, serde: serde}
	if p.cl == nil {
		p.auth = kafkaauth.NewWatch()
		kopts := append([]kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks()), kgo.WithHooks(p.auth)}, cfg.clientOpts...)
		if p.cl, err = kgo.NewClient(kopts...); err != nil {
			return nil, fmt.Errorf("new producer: %w", err)
		}
		p.owned = true
	}
	return p, nil
}

// Client returns the underlying client, e.g. to produce raw records or to
// read its metrics. Closing it is the Producer's job when the Producer
// built it.
func (p *Producer[T]) Client() *kgo.Client { return p.cl }

// Serde returns the producer's serde.
func (p *Producer[T]) Serde() *Serde[T] { return p.serde }

// Topic returns the topic the producer writes to.
func (p *Producer[T]) Topic() string { return p.topic }

func (p *Producer[T]) record(ctx context.Context, m *Message[T]) (*kgo.Record, error) {
	var value []byte
	if !m.Tombstone {
		var err error
		if value, err = p.serde.AppendEncode(ctx, nil, p.topic, m.Value); err != nil {
			return nil, err
		}
	}
	r := &kgo.Record{Topic: p.topic, Key: m.Key, Value: value, Headers: m.Headers, Timestamp: m.Timestamp}
	if p.auth != nil {
		r.Context = p.auth.Context()
	}
	return r, nil
}

// Produce encodes m and produces it asynchronously. promise, if not nil, is
// called once with the record and the result: an encoding error at once,
// from this goroutine; a delivery result later, from the client's. promise
// must be safe for concurrent use and fast.
func (p *Producer[T]) Produce(ctx context.Context, m Message[T], promise func(*kgo.Record, error)) {
	if promise == nil {
		promise = func(*kgo.Record, error) {}
	}
	if p.closed.Load() {
		promise(&kgo.Record{Topic: p.topic, Key: m.Key}, ErrClosed)
		return
	}
	r, err := p.record(ctx, &m)
	if err != nil {
		promise(&kgo.Record{Topic: p.topic, Key: m.Key}, err)
		return
	}
	if p.auth != nil {
		a := adapters.Get().(*authPromise)
		a.user = promise
		promise = a.fn
	}
	p.cl.Produce(ctx, r, promise)
}

// ProduceSync encodes every message first, and produces nothing when one
// fails to encode; then it produces them all and waits. It returns the
// first error, prefixed with the index of its message.
func (p *Producer[T]) ProduceSync(ctx context.Context, ms ...Message[T]) error {
	if p.closed.Load() {
		return ErrClosed
	}
	rs := make([]*kgo.Record, len(ms))
	for i := range ms {
		r, err := p.record(ctx, &ms[i])
		if err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		rs[i] = r
	}
	for i, res := range p.cl.ProduceSync(ctx, rs...) {
		if res.Err != nil {
			return fmt.Errorf("produce message %d: %w", i, kafkaauth.TranslateRecord(res.Record, res.Err))
		}
	}
	return nil
}

// Flush waits until every record produced so far is acknowledged or has
// failed, or ctx ends.
func (p *Producer[T]) Flush(ctx context.Context) error { return p.cl.Flush(ctx) }

// Close flushes what is buffered, then closes the client when the Producer
// built it. It blocks until the flush ends or ctx does, and may be called
// more than once; later calls do nothing and return nil.
func (p *Producer[T]) Close(ctx context.Context) error {
	if p.closed.Swap(true) {
		return nil
	}
	err := p.cl.Flush(ctx)
	if p.owned {
		p.cl.Close()
	}
	if err != nil {
		return fmt.Errorf("close producer: %w", err)
	}
	return nil
}

// authPromise hands a record's result to the caller's promise with an
// authentication failure as the *AuthError behind it (see kafkaauth.Watch).
// They are pooled, each with its bound method made once, so that Produce
// allocates nothing for it: kgo calls a promise exactly once.
type authPromise struct {
	user func(*kgo.Record, error)
	fn   func(*kgo.Record, error)
}

var adapters sync.Pool

func init() {
	adapters.New = func() any {
		a := &authPromise{}
		a.fn = a.call
		return a
	}
}

func (a *authPromise) call(r *kgo.Record, err error) {
	user := a.user
	a.user = nil
	adapters.Put(a)
	user(r, kafkaauth.TranslateRecord(r, err))
}
