package schema

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// KeyCodec turns keys of type K into record keys and back: StringKeys for
// text keys, AvroKeys for Avro keys through the registry. A KeyedProducer
// writes with one and ProcessKeyed reads with one; a Consumer's Poll
// leaves keys as bytes, which DecodeKey turns into a K. Implementations
// must be safe for concurrent use.
type KeyCodec[K any] interface {
	// EncodeKey returns key as the record key of a record of topic.
	EncodeKey(ctx context.Context, topic string, key K) ([]byte, error)
	// DecodeKey reads a record key. A nil key (a record without one) is
	// ErrNullKey. Errors that Permanent calls permanent are the key's
	// fault, the others the surroundings' (the registry unreachable).
	DecodeKey(ctx context.Context, data []byte) (K, error)
}

// ErrNullKey is returned by a KeyCodec's DecodeKey for a record without a
// key. It is permanent: reading the record again does not give it one.
var ErrNullKey = errors.New("record has no key")

// StringKeys returns the KeyCodec of text keys: the key's UTF-8 bytes, as
// Kafka's StringSerializer writes them. DecodeKey refuses bytes that are
// not valid UTF-8 with ErrCorruptPayload, and a missing key with
// ErrNullKey; an empty key is the empty string.
func StringKeys() KeyCodec[string] { return stringKeys{} }

type stringKeys struct{}

func (stringKeys) EncodeKey(_ context.Context, _ string, key string) ([]byte, error) {
	return append([]byte{}, key...), nil
}

func (stringKeys) DecodeKey(_ context.Context, data []byte) (string, error) {
	if data == nil {
		return "", ErrNullKey
	}
	if !utf8.Valid(data) {
		return "", fmt.Errorf("%w: key is not valid UTF-8", ErrCorruptPayload)
	}
	return string(data), nil
}

// AvroKeys returns the KeyCodec of Avro keys through the registry, in the
// Confluent wire format: a Serde of K built with opts and ForKeys, so that
// keys are registered and looked up under the key subjects ("<topic>-key"
// with the default strategy) and WithRegistration, WithSchema and the
// rest apply to keys as they do to values. NewKeyedProducer finds the key
// schema's ID before it returns, as NewProducer does the value schema's.
func AvroKeys[K any](reg *Registry, opts ...SerdeOpt) (KeyCodec[K], error) {
	s, err := NewSerde[K](reg, append(append([]SerdeOpt(nil), opts...), ForKeys())...)
	if err != nil {
		return nil, fmt.Errorf("avro keys: %w", err)
	}
	return avroKeys[K]{s}, nil
}

type avroKeys[K any] struct{ s *Serde[K] }

func (a avroKeys[K]) EncodeKey(ctx context.Context, topic string, key K) ([]byte, error) {
	return a.s.Encode(ctx, topic, key)
}

func (a avroKeys[K]) DecodeKey(ctx context.Context, data []byte) (K, error) {
	var k K
	if data == nil {
		return k, ErrNullKey
	}
	err := a.s.Decode(ctx, data, &k)
	return k, err
}

// prepare finds the key schema's ID for topic.
func (a avroKeys[K]) prepare(ctx context.Context, topic string) error {
	_, err := a.s.Prepare(ctx, topic)
	return err
}

// KeyError is a record key that a KeyCodec could not decode in
// ProcessKeyed. It matches Err with errors.Is.
type KeyError struct {
	Topic     string
	Partition int32
	Offset    int64
	Err       error
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("decode key of %s[%d]@%d: %v", e.Topic, e.Partition, e.Offset, e.Err)
}

// Unwrap returns Err.
func (e *KeyError) Unwrap() error { return e.Err }

// KeyedMessage is a message with a typed key for a KeyedProducer.
type KeyedMessage[K, V any] struct {
	Key     K
	Value   V
	Headers []kgo.RecordHeader
	// Timestamp is left to the client when zero.
	Timestamp time.Time
	// Tombstone writes a null value: Value is ignored.
	Tombstone bool
}

// KeyedProducer writes values of type V with keys of type K to one topic:
// a Producer[V] that encodes each key with a KeyCodec. It is safe for
// concurrent use.
type KeyedProducer[K, V any] struct {
	p    *Producer[V]
	keys KeyCodec[K]
}

// NewKeyedProducer returns a producer of V keyed by K for topic. It takes
// NewProducer's options, and finds the value schema's ID (and, with
// AvroKeys, the key schema's) before it returns, so that a schema the
// registry lacks or refuses is an error here.
func NewKeyedProducer[K, V any](ctx context.Context, reg *Registry, topic string, keys KeyCodec[K], opts ...ProducerOpt) (*KeyedProducer[K, V], error) {
	if keys == nil {
		return nil, errors.New("new keyed producer: nil key codec")
	}
	if ak, ok := keys.(avroKeys[K]); ok && topic != "" {
		if err := ak.prepare(ctx, topic); err != nil {
			return nil, fmt.Errorf("new keyed producer for %q: key: %w", topic, err)
		}
	}
	p, err := NewProducer[V](ctx, reg, topic, opts...)
	if err != nil {
		return nil, err
	}
	return &KeyedProducer[K, V]{p: p, keys: keys}, nil
}

func (kp *KeyedProducer[K, V]) message(ctx context.Context, m *KeyedMessage[K, V]) (Message[V], error) {
	key, err := kp.keys.EncodeKey(ctx, kp.p.topic, m.Key)
	if err != nil {
		return Message[V]{}, fmt.Errorf("encode key: %w", err)
	}
	return Message[V]{Key: key, Value: m.Value, Headers: m.Headers, Timestamp: m.Timestamp, Tombstone: m.Tombstone}, nil
}

// Produce encodes m's key and value and produces it asynchronously, as
// Producer.Produce does.
func (kp *KeyedProducer[K, V]) Produce(ctx context.Context, m KeyedMessage[K, V], promise func(*kgo.Record, error)) {
	msg, err := kp.message(ctx, &m)
	if err != nil {
		if promise != nil {
			promise(&kgo.Record{Topic: kp.p.topic}, err)
		}
		return
	}
	kp.p.Produce(ctx, msg, promise)
}

// ProduceSync encodes every message's key and value first, and produces
// nothing when one fails; then it produces them all and waits, as
// Producer.ProduceSync does.
func (kp *KeyedProducer[K, V]) ProduceSync(ctx context.Context, ms ...KeyedMessage[K, V]) error {
	out := make([]Message[V], len(ms))
	for i := range ms {
		var err error
		if out[i], err = kp.message(ctx, &ms[i]); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return kp.p.ProduceSync(ctx, out...)
}

// Producer returns the Producer of values underneath, whose messages
// carry keys as bytes.
func (kp *KeyedProducer[K, V]) Producer() *Producer[V] { return kp.p }

// Flush waits until every record produced so far is delivered or failed.
func (kp *KeyedProducer[K, V]) Flush(ctx context.Context) error { return kp.p.Flush(ctx) }

// Close flushes and closes the producer (see Producer.Close).
func (kp *KeyedProducer[K, V]) Close(ctx context.Context) error { return kp.p.Close(ctx) }

// KeyedHandler is a Handler that is also given the record's key, decoded.
type KeyedHandler[K, V any] func(ctx context.Context, key K, r *Record[V]) error

// ProcessKeyed runs c.Process with a handler that is given each record's
// key decoded with keys. A key that cannot be decoded for a permanent
// reason (see Permanent; ErrNullKey is) is a *KeyError handed to the
// consumer's policy at once, as a Rejected error is; one that
// fails transiently (the registry unreachable) is a *KeyError tried again
// in place like any handler error. Everything else is as Process.
func ProcessKeyed[K, V any](ctx context.Context, c *Consumer[V], keys KeyCodec[K], h KeyedHandler[K, V]) error {
	if keys == nil || h == nil {
		return errors.New("process: nil key codec or handler")
	}
	return c.Process(ctx, func(ctx context.Context, r *Record[V]) error {
		k, err := keys.DecodeKey(ctx, r.Key)
		if err != nil {
			ke := &KeyError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Err: err}
			if Permanent(err) {
				return Reject(ke)
			}
			return ke
		}
		return h(ctx, k, r)
	})
}
