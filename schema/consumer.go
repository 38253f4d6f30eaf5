package schema

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Record is a consumed record with its value decoded.
type Record[T any] struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	Headers   []kgo.RecordHeader
	// Key is the raw key; decode an Avro key with a Serde built with
	// ForKeys.
	Key   []byte
	Value T

	raw *kgo.Record
}

// Raw returns the record as the client fetched it.
func (r *Record[T]) Raw() *kgo.Record { return r.raw }

// Headers a Consumer adds to a record it writes to a dead-letter topic,
// after the record's own headers. Values are text.
const (
	HeaderSourceTopic     = "streamkit.dlq.topic"
	HeaderSourcePartition = "streamkit.dlq.partition"
	HeaderSourceOffset    = "streamkit.dlq.offset"
	HeaderSchemaID        = "streamkit.dlq.schema-id"
	HeaderError           = "streamkit.dlq.error"
)

// ConsumerStats counts what a Consumer did with the records it fetched.
type ConsumerStats struct {
	// Decoded records were returned by Poll.
	Decoded uint64
	// Skipped records could not be decoded and were dropped (SkipInvalid).
	Skipped uint64
	// DeadLettered records could not be decoded and were written to the
	// dead-letter topic (DeadLetter).
	DeadLettered uint64
}

type topicPartition struct {
	topic     string
	partition int32
}

// pendingMark is an undecodable record, already dead-lettered or skipped,
// whose offset may be committed only once the caller has marked every
// good record delivered before it in its partition.
type pendingMark struct {
	after int64 // the highest good offset delivered before it
	raw   *kgo.Record
}

// Consumer reads values of type T as a member of a consumer group, with
// at-least-once delivery: it commits only offsets the caller has marked
// with MarkProcessed (periodically, on rebalance, and in Commit and Close).
// Records it cannot decode are handled by its InvalidPolicy and are never
// committed before the good records that precede them.
//
// Poll must be called from one goroutine at a time; MarkProcessed, Commit,
// Stats and Close are safe for concurrent use with it and each other.
type Consumer[T any] struct {
	cl     *kgo.Client
	owned  bool
	serde  *Serde[T]
	policy InvalidPolicy
	log    *slog.Logger
	obs    Observer

	mu        sync.Mutex
	delivered map[topicPartition]int64
	marked    map[topicPartition]int64
	pending   map[topicPartition][]pendingMark
	stopped   error

	decoded, skipped, deadLettered atomic.Uint64
	closed                         atomic.Bool
}

var consumerOpts = []string{optSchema, optClient, optClientOpts, optOnInvalid, optLogger, optObserver}

// NewConsumer returns a consumer of T for group on topics. It takes
// WithSchema (the reader's schema; by default Derive's for a struct T, the
// writer's for a generic T), OnInvalid, WithLogger, WithObserver, and
// either WithClient or WithClientOpts (with kgo.SeedBrokers). The client
// it builds consumes group with kgo.AutoCommitMarks; it starts no
// goroutine of its own beyond the client's.
func NewConsumer[T any](reg *Registry, group string, topics []string, opts ...Opt) (*Consumer[T], error) {
	cfg, err := newConfig("consumer", consumerOpts, opts)
	if err != nil {
		return nil, err
	}
	if cfg.given[optClient] && cfg.given[optClientOpts] {
		return nil, errors.New("new consumer: WithClient and WithClientOpts exclude each other")
	}
	if cfg.client == nil && (group == "" || len(topics) == 0) {
		return nil, errors.New("new consumer: a group and at least one topic are required")
	}
	cfg.registration = UseLatest() // a consumer writes nothing; it needs no writer schema
	serde, err := newSerde[T](reg, cfg)
	if err != nil {
		return nil, fmt.Errorf("new consumer: %w", err)
	}
	c := &Consumer[T]{
		cl:        cfg.client,
		serde:     serde,
		policy:    cfg.onInvalid,
		log:       cfg.logger,
		obs:       cfg.observer,
		delivered: map[topicPartition]int64{},
		marked:    map[topicPartition]int64{},
		pending:   map[topicPartition][]pendingMark{},
	}
	if c.cl == nil {
		kopts := append([]kgo.Opt{
			kgo.ConsumerGroup(group),
			kgo.ConsumeTopics(topics...),
			kgo.AutoCommitMarks(),
		}, cfg.clientOpts...)
		if c.cl, err = kgo.NewClient(kopts...); err != nil {
			return nil, fmt.Errorf("new consumer: %w", err)
		}
		c.owned = true
	}
	return c, nil
}

// Client returns the underlying client.
func (c *Consumer[T]) Client() *kgo.Client { return c.cl }

// Serde returns the consumer's serde.
func (c *Consumer[T]) Serde() *Serde[T] { return c.serde }

// Stats returns what the consumer has counted so far.
func (c *Consumer[T]) Stats() ConsumerStats {
	return ConsumerStats{Decoded: c.decoded.Load(), Skipped: c.skipped.Load(), DeadLettered: c.deadLettered.Load()}
}

// Poll waits for records and returns them decoded, in partition order. It
// returns when ctx ends (with ctx's error), when records arrive, or with
// ErrClosed after Close. Fetch errors are returned beside the records that
// did arrive.
//
// A record that cannot be decoded is handled by the policy: under
// StopOnInvalid, Poll returns the good records before it and a
// *DecodeError, and every later Poll returns that error again.
func (c *Consumer[T]) Poll(ctx context.Context) ([]Record[T], error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	c.mu.Lock()
	stopped := c.stopped
	c.mu.Unlock()
	if stopped != nil {
		return nil, stopped
	}

	fs := c.cl.PollFetches(ctx)
	if fs.IsClientClosed() {
		return nil, ErrClosed
	}
	var errs []error
	fs.EachError(func(topic string, partition int32, err error) {
		errs = append(errs, fmt.Errorf("fetch %s[%d]: %w", topic, partition, err))
	})
	if ctx.Err() != nil && fs.NumRecords() == 0 {
		return nil, ctx.Err()
	}

	out := make([]Record[T], 0, fs.NumRecords())
	var bad []*invalidRecord
	var stop error
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if stop != nil {
			return
		}
		tp := topicPartition{p.Topic, p.Partition}
		// The partition's last good offset, read and written back once
		// rather than under the lock for every record.
		c.mu.Lock()
		last, ok := c.delivered[tp]
		c.mu.Unlock()
		if !ok {
			last = -1
		}
		defer func() {
			if last >= 0 {
				c.mu.Lock()
				c.delivered[tp] = last
				c.mu.Unlock()
			}
		}()
		for _, r := range p.Records {
			rec := Record[T]{
				Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp,
				Headers: r.Headers, Key: r.Key, raw: r,
			}
			if err := c.serde.Decode(ctx, r.Value, &rec.Value); err != nil {
				de := decodeError(r, err)
				if c.obs != nil {
					c.obs.OnDecodeError(r.Topic, de)
				}
				if c.policy.mode == stopOnInvalid {
					stop = de
					return
				}
				bad = append(bad, &invalidRecord{raw: r, err: de, after: last})
				continue
			}
			last = r.Offset
			out = append(out, rec)
		}
	})
	c.decoded.Add(uint64(len(out)))

	if err := c.handleInvalid(ctx, bad); err != nil && stop == nil {
		stop = err
	}
	if stop != nil {
		c.mu.Lock()
		c.stopped = stop
		c.mu.Unlock()
		errs = append(errs, stop)
	}
	return out, errors.Join(errs...)
}

type invalidRecord struct {
	raw   *kgo.Record
	err   *DecodeError
	after int64
}

func decodeError(r *kgo.Record, err error) *DecodeError {
	id, idErr := SchemaID(r.Value)
	if idErr != nil {
		id = -1
	}
	return &DecodeError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, SchemaID: id, Err: err}
}

// handleInvalid dead-letters or skips the records, then lets their offsets
// be committed once the good records before them are.
func (c *Consumer[T]) handleInvalid(ctx context.Context, bad []*invalidRecord) error {
	if len(bad) == 0 {
		return nil
	}
	if c.policy.mode == deadLetter {
		dlq := make([]*kgo.Record, len(bad))
		for i, b := range bad {
			dlq[i] = deadLetterRecord(c.policy.topic, b)
		}
		for i, res := range c.cl.ProduceSync(ctx, dlq...) {
			if res.Err != nil {
				// Nothing is marked: after a restart the records are read
				// and dead-lettered again.
				return fmt.Errorf("dead-letter %s[%d]@%d to %q: %w",
					bad[i].raw.Topic, bad[i].raw.Partition, bad[i].raw.Offset, c.policy.topic, res.Err)
			}
		}
		c.deadLettered.Add(uint64(len(bad)))
		if c.obs != nil {
			for _, b := range bad {
				c.obs.OnDeadLetter(b.raw.Topic)
			}
		}
	} else {
		c.skipped.Add(uint64(len(bad)))
		for _, b := range bad {
			if c.obs != nil {
				c.obs.OnSkip(b.raw.Topic)
			}
			c.log.Warn("skipped undecodable record", "topic", b.raw.Topic, "partition", b.raw.Partition,
				"offset", b.raw.Offset, "schema_id", b.err.SchemaID, "error", b.err.Err)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range bad {
		tp := topicPartition{b.raw.Topic, b.raw.Partition}
		if marked, ok := c.marked[tp]; b.after < 0 || ok && marked >= b.after {
			c.cl.MarkCommitRecords(b.raw)
			continue
		}
		c.pending[tp] = append(c.pending[tp], pendingMark{after: b.after, raw: b.raw})
	}
	return nil
}

func deadLetterRecord(topic string, b *invalidRecord) *kgo.Record {
	r := b.raw
	headers := make([]kgo.RecordHeader, 0, len(r.Headers)+5)
	headers = append(headers, r.Headers...)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderSourceTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: HeaderSourcePartition, Value: []byte(strconv.FormatInt(int64(r.Partition), 10))},
		kgo.RecordHeader{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
		kgo.RecordHeader{Key: HeaderSchemaID, Value: []byte(strconv.Itoa(b.err.SchemaID))},
		kgo.RecordHeader{Key: HeaderError, Value: []byte(b.err.Err.Error())},
	)
	return &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: headers, Timestamp: r.Timestamp}
}

// MarkProcessed marks records as processed, so their offsets are committed
// with the next commit. Mark records of a partition in the order Poll
// returned them: committing an offset commits everything before it.
func (c *Consumer[T]) MarkProcessed(recs ...Record[T]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	touched := map[topicPartition]bool{}
	for i := range recs {
		r := recs[i].raw
		if r == nil {
			continue
		}
		c.cl.MarkCommitRecords(r)
		tp := topicPartition{r.Topic, r.Partition}
		if m, ok := c.marked[tp]; !ok || r.Offset > m {
			c.marked[tp] = r.Offset
		}
		touched[tp] = true
	}
	for tp := range touched {
		rest := c.pending[tp][:0]
		for _, p := range c.pending[tp] {
			if c.marked[tp] >= p.after {
				c.cl.MarkCommitRecords(p.raw)
			} else {
				rest = append(rest, p)
			}
		}
		if len(rest) == 0 {
			delete(c.pending, tp)
		} else {
			c.pending[tp] = rest
		}
	}
}

// Commit commits the marked offsets now and waits for the result.
func (c *Consumer[T]) Commit(ctx context.Context) error {
	if err := c.cl.CommitMarkedOffsets(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Close commits the marked offsets and, when the Consumer built the client,
// leaves the group and closes the client. It blocks until that is done or
// ctx ends, and may be called more than once; later calls return nil.
func (c *Consumer[T]) Close(ctx context.Context) error {
	if c.closed.Swap(true) {
		return nil
	}
	err := c.cl.CommitMarkedOffsets(ctx)
	if c.owned {
		if lerr := c.cl.LeaveGroupContext(ctx); lerr != nil && err == nil {
			err = lerr
		}
		c.cl.Close()
	}
	if err != nil {
		return fmt.Errorf("close consumer: %w", err)
	}
	return nil
}
