package schema

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamkit/streamkit/internal/backoff"
	"github.com/streamkit/streamkit/internal/kafkaauth"
	"github.com/streamkit/streamkit/internal/runloop"
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
	// Tombstone is a record whose value is null: its key was deleted (a
	// compacted topic's delete, or a Debezium source's tombstone after a
	// row's delete event). Value is T's zero value.
	Tombstone bool

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
	// HeaderStage is StageDecode or StageHandle.
	HeaderStage = "streamkit.dlq.stage"
	// HeaderAttempts is how many times the record was tried: 1 for a
	// record that could not be decoded.
	HeaderAttempts = "streamkit.dlq.attempts"
)

// DeadLetterInfo is what a dead letter's headers say about the record it
// holds (see the Header constants).
type DeadLetterInfo struct {
	// Topic, Partition and Offset are where the record was read.
	Topic     string
	Partition int32
	Offset    int64
	// SchemaID is the schema ID of the record's value, -1 when it had
	// none.
	SchemaID int
	// Stage is StageDecode or StageHandle.
	Stage string
	// Attempts is how many times the record was tried.
	Attempts int
	// Error is the error's text.
	Error string
}

// ReadDeadLetter reads the provenance headers of a record of a
// dead-letter topic, for tools that inspect or replay them. A dead letter
// written before the stage and attempts headers existed reads as
// StageDecode and 1 attempt. It fails when another header is missing or
// malformed: a record that no Consumer wrote.
func ReadDeadLetter(r *kgo.Record) (DeadLetterInfo, error) {
	info := DeadLetterInfo{Stage: StageDecode, Attempts: 1}
	seen := map[string]bool{}
	var errs []error
	atoi := func(key string, v []byte, bits int) int64 {
		n, err := strconv.ParseInt(string(v), 10, bits)
		if err != nil {
			errs = append(errs, fmt.Errorf("header %s: %q is not a number", key, v))
		}
		return n
	}
	// The last of each wins: a dead letter's own headers come after the
	// record's, which may hold those of an earlier dead-lettering.
	for _, h := range r.Headers {
		seen[h.Key] = true
		switch h.Key {
		case HeaderSourceTopic:
			info.Topic = string(h.Value)
		case HeaderSourcePartition:
			info.Partition = int32(atoi(h.Key, h.Value, 32))
		case HeaderSourceOffset:
			info.Offset = atoi(h.Key, h.Value, 64)
		case HeaderSchemaID:
			info.SchemaID = int(atoi(h.Key, h.Value, 32))
		case HeaderStage:
			info.Stage = string(h.Value)
		case HeaderAttempts:
			info.Attempts = int(atoi(h.Key, h.Value, 32))
		case HeaderError:
			info.Error = string(h.Value)
		}
	}
	for _, k := range []string{HeaderSourceTopic, HeaderSourcePartition, HeaderSourceOffset, HeaderSchemaID, HeaderError} {
		if !seen[k] {
			errs = append(errs, fmt.Errorf("header %s missing", k))
		}
	}
	if len(errs) > 0 {
		return DeadLetterInfo{}, fmt.Errorf("read dead letter %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, errors.Join(errs...))
	}
	return info, nil
}

// ConsumerStats counts what a Consumer did with the records it fetched.
type ConsumerStats struct {
	// Decoded records were returned by Poll.
	Decoded uint64
	// Skipped records could not be decoded and were dropped (SkipInvalid).
	Skipped uint64
	// DeadLettered records could not be decoded and were written to the
	// dead-letter topic (DeadLetter).
	DeadLettered uint64
	// Held counts the times a partition was held back at a record that
	// failed for a transient reason or whose dead letter could not be
	// written (see HoldError).
	Held uint64
	// Processed records were done by Process's handler; Retried counts
	// the handler's attempts after a record's first. Skipped and
	// DeadLettered include the records the handler failed on.
	Processed, Retried uint64
	// Deferred records were written to a retry topic (WithRetryTopics).
	Deferred uint64
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

// hold is a partition held back at a record (see HoldError): the records
// Poll took from the client from that one on, kept in order while the
// client's fetching of the partition is paused, and tried again when
// retryAt comes.
type hold struct {
	records []*kgo.Record
	attempt int
	retryAt time.Time
}

// Consumer reads values of type T as a member of a consumer group, with
// at-least-once delivery: it commits only offsets the caller has marked
// with MarkProcessed (periodically, on rebalance, and in Commit and Close).
//
// Every record Poll returns is safe to process and mark, whatever else
// fails: Poll never returns a record of a partition after one that is not
// handled yet. Records it cannot decode are handled by its InvalidPolicy,
// but only when the failure is permanent (see Permanent) and never
// committed before the good records that precede them. A transient
// failure (the registry down, a dead letter that cannot be written) holds
// the partition at the record: Poll returns a *HoldError for it, the
// records of other partitions go on, and the Consumer tries the record
// again with backoff (WithBackoff) until it is handled.
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
	retry  backoff.Policy
	auth   *kafkaauth.Watch // nil when the caller built the client
	now    func() time.Time

	// Only Poll's goroutine uses these.
	authSeen uint64 // the authentication failures Poll has reported
	// unknown holds when the registry first said a schema ID does not
	// exist; the answer counts only once it holds for grace (see
	// UnknownIDGrace).
	unknown map[int]time.Time
	grace   time.Duration

	mu sync.Mutex
	// holds are the partitions held back; a revoke drops its partitions'
	// holds, which a new owner reads again from the committed offset.
	holds     map[topicPartition]*hold
	delivered map[topicPartition]int64
	marked    map[topicPartition]int64
	pending   map[topicPartition][]pendingMark
	// written holds the offsets of dead letters written for records that
	// were then held back with their partition, so that they are not
	// written twice when the partition is read again.
	written map[topicPartition]map[int64]bool
	stopped error

	decoded, skipped, deadLettered, held atomic.Uint64
	processed, retried, deferred         atomic.Uint64
	closed                               atomic.Bool

	// Process's settings and state.
	concurrency, maxPending, retries int
	drainTimeout                     time.Duration
	processing                       runloop.Guard
	// retryTopics are the retry steps, and retryStep each one's index by
	// topic.
	retryTopics []RetryTopic
	retryStep   map[string]int
	// reuse is ReuseValues; reset readies a value for reuse, nil when
	// there is nothing to do.
	reuse bool
	reset func(*T)
	// revokeHook, when set, runs in the revoke and lost callbacks before
	// the consumer commits.
	revokeHook atomic.Pointer[func(gone map[string][]int32, lost bool)]
}

// NewConsumer returns a consumer of T for group on topics. Under a
// DeadLetter policy it asks the cluster for the dead-letter topic before
// it returns, and fails with ErrTopicNotFound when it does not exist,
// rather than at the first bad record. It takes
// WithSchema (the reader's schema; by default Derive's for a struct T, the
// writer's for a generic T), AnyRecordName, OnInvalid, WithBackoff,
// UnknownIDGrace, WithLogger, WithObserver, Process's WithConcurrency,
// WithRetries, WithMaxPending and WithDrainTimeout, and either WithClient
// or WithClientOpts (with kgo.SeedBrokers). It starts no goroutine of its own beyond the client's.
//
// The client it builds consumes group with kgo.AutoCommitMarks,
// kgo.BlockRebalanceOnPoll (a rebalance waits until Poll has handed over
// its records) and kgo.FetchMaxWait of 500ms (Kafka's default); it commits
// the marked offsets when partitions are revoked, as kgo does by default,
// and drops what it holds back of them. It watches its connections, so
// that a broker refusing the credentials reaches Poll as an *AuthError at
// once rather than as a context deadline.
//
// A client given with WithClient must consume the group with
// kgo.AutoCommitMarks. The Consumer calls its AllowRebalance at the end of
// every Poll, but cannot see its rebalances: a partition revoked while it
// is held back is delivered from the held records once more, a duplicate
// that at-least-once delivery allows, and authentication failures reach
// the caller only through the client's own logger.
func NewConsumer[T any](ctx context.Context, reg *Registry, group string, topics []string, opts ...ConsumerOpt) (*Consumer[T], error) {
	cfg, err := newConfig("consumer", opts, ConsumerOpt.applyConsumer)
	if err != nil {
		return nil, err
	}
	if cfg.client == nil && (group == "" || len(topics) == 0) {
		return nil, errors.New("new consumer: a group and at least one topic are required")
	}
	if err := validateRetryTopics(cfg.retryTopics, topics, cfg.onInvalid); err != nil {
		return nil, fmt.Errorf("new consumer: %w", err)
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
		retry:     cfg.backoff,
		now:       time.Now,
		holds:     map[topicPartition]*hold{},
		unknown:   map[int]time.Time{},
		grace:     cfg.unknownGrace,
		delivered: map[topicPartition]int64{},
		marked:    map[topicPartition]int64{},
		pending:   map[topicPartition][]pendingMark{},
		written:   map[topicPartition]map[int64]bool{},

		concurrency:  cfg.concurrency,
		maxPending:   cfg.maxPending,
		retries:      cfg.retries,
		drainTimeout: cfg.drainTimeout,
		retryTopics:  cfg.retryTopics,
		retryStep:    map[string]int{},
		reuse:        cfg.reuseValues,
	}
	if c.reuse {
		c.reset = resetter[T]()
	}
	checked := make([]string, 0, len(c.retryTopics)+1)
	for i, s := range c.retryTopics {
		c.retryStep[s.Topic] = i
		checked = append(checked, s.Topic)
	}
	if c.policy.mode == deadLetter {
		checked = append(checked, c.policy.topic)
	}
	if c.cl == nil {
		c.auth = kafkaauth.NewWatch()
		kopts := append([]kgo.Opt{
			kgo.ConsumerGroup(group),
			kgo.ConsumeTopics(append(slices.Clip(topics), checked[:len(c.retryTopics)]...)...),
			kgo.AutoCommitMarks(),
			kgo.BlockRebalanceOnPoll(),
			// Kafka's own default, not kgo's 5s: a held partition that is
			// resumed joins the next fetch, which may wait this long
			// first.
			kgo.FetchMaxWait(500 * time.Millisecond),
			kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
				if hook := c.revokeHook.Load(); hook != nil {
					(*hook)(revoked, false)
				}
				c.release(revoked)
				// What kgo does when no function is set.
				if err := cl.CommitMarkedOffsets(ctx); err != nil {
					c.log.Warn("commit on revoke failed", "error", err)
				}
			}),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
				if hook := c.revokeHook.Load(); hook != nil {
					(*hook)(lost, true)
				}
				c.release(lost)
			}),
			kgo.WithHooks(c.auth),
		}, cfg.clientOpts...)
		if c.cl, err = kgo.NewClient(kopts...); err != nil {
			return nil, fmt.Errorf("new consumer: %w", err)
		}
		c.owned = true
	}
	if len(checked) > 0 {
		if err := topicsExist(ctx, c.cl, checked...); err != nil {
			if c.owned {
				c.cl.Close()
			}
			return nil, fmt.Errorf("new consumer: dead-letter or retry topic: %w", err)
		}
	}
	return c, nil
}

// topicsExist asks the cluster whether topics exist, without creating
// them: ErrTopicNotFound names those that do not.
func topicsExist(ctx context.Context, cl *kgo.Client, topics ...string) error {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	var missing []string
	for _, t := range resp.Topics {
		name := ""
		if t.Topic != nil {
			name = *t.Topic
		}
		switch err := kerr.ErrorForCode(t.ErrorCode); {
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			missing = append(missing, name)
		case err != nil:
			return fmt.Errorf("topic %s: %w", name, err)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrTopicNotFound, strings.Join(missing, ", "))
	}
	return nil
}

// Client returns the underlying client.
func (c *Consumer[T]) Client() *kgo.Client { return c.cl }

// Serde returns the consumer's serde.
func (c *Consumer[T]) Serde() *Serde[T] { return c.serde }

// Stats returns what the consumer has counted so far.
func (c *Consumer[T]) Stats() ConsumerStats {
	return ConsumerStats{
		Decoded: c.decoded.Load(), Skipped: c.skipped.Load(), DeadLettered: c.deadLettered.Load(), Held: c.held.Load(),
		Processed: c.processed.Load(), Retried: c.retried.Load(), Deferred: c.deferred.Load(),
	}
}

// Poll waits for records and returns them decoded, in partition order. It
// returns when ctx ends (with ctx's error), when records arrive, when a
// held partition's retry fails again, with an *AuthError when a broker
// refuses the client's credentials, or with ErrClosed after Close. Errors
// are returned beside the records that did arrive, joined: fetch errors,
// a *HoldError for each partition held back, a *DecodeError under
// StopOnInvalid. Every record returned is safe to process and mark.
//
// A record that cannot be decoded for a permanent reason is handled by
// the policy: under StopOnInvalid, Poll returns the good records before
// it and a *DecodeError, and every later Poll returns that error again.
func (c *Consumer[T]) Poll(ctx context.Context) ([]Record[T], error) {
	// A rebalance may run once Poll has handed over its records and
	// paused the partitions it holds back.
	defer c.cl.AllowRebalance()
	return c.poll(ctx, 0, nil, false)
}

// Records returns an iterator over the consumer's records, for a loop
// that handles one record at a time:
//
//	for r, err := range c.Records(ctx) {
//		if err != nil {
//			log.Warn("poll", "error", err) // transient: the loop goes on
//			continue
//		}
//		bill(r.Value)
//	}
//
// It delivers what Poll does, with at-least-once delivery built in: a
// record counts as processed, and is marked for commit, once the loop
// moves on from it, and a rebalance waits until the records handed out
// are marked, so their next owner does not handle them again. A loop that
// breaks leaves the record it breaks on unmarked.
//
// It decodes a few records at a time, as the loop reaches them, rather
// than a whole fetch: a consumer's decoded values are garbage as soon as
// the loop is done with them, as in a raw kgo loop, which keeps the
// garbage collector's work to that of the values themselves (see the
// README's consume benchmark). r and its value are the loop's until the
// next iteration; copy what must outlive it.
//
// The iterator yields Poll's transient errors (a *HoldError, a fetch
// error, an *AuthError) with a nil record and goes on; it yields
// ErrClosed, ErrRunning (Process or another Records loop runs) and the
// *DecodeError that stops it under StopOnInvalid, then ends. It ends
// without an error when ctx ends. Records must not be used together with
// Poll or Process.
func (c *Consumer[T]) Records(ctx context.Context) iter.Seq2[*Record[T], error] {
	return func(yield func(*Record[T], error) bool) {
		leave, err := c.processing.Enter()
		if err != nil {
			yield(nil, fmt.Errorf("records: %w", ErrRunning))
			return
		}
		defer leave()
		// Also when the loop's body panics or calls runtime.Goexit (a
		// test's t.Fatal): a rebalance blocked for good would hang Close.
		defer c.cl.AllowRebalance()
		var recs []Record[T]
		for {
			recs, err = c.poll(ctx, recordsChunk, recs[:0], c.reuse)
			for i := range recs {
				if !yield(&recs[i], nil) {
					c.MarkProcessed(recs[:i]...)
					return
				}
			}
			c.MarkProcessed(recs...)
			c.cl.AllowRebalance()
			switch {
			case err == nil:
			case ctx.Err() != nil:
				return
			case errors.Is(err, ErrClosed) || c.stoppedErr() != nil:
				yield(nil, err)
				return
			default:
				if !yield(nil, err) {
					return
				}
			}
		}
	}
}

// recordsChunk is how many records Records takes from the client at a
// time: the BenchmarkConsumeThroughput variants with 64 and 512 (and a
// whole fetch, Poll) cost 1.15, 1.20 and 1.25 times a raw loop's CPU per
// record.
const recordsChunk = 64

// stoppedErr is the error that stopped the consumer under StopOnInvalid.
func (c *Consumer[T]) stoppedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// poll is Poll without allowing a rebalance at its end, appending the
// records to dst: Process allows it once it has queued the records, so a
// revoke sees them, and Records once they are marked. With max above 0,
// it takes at most max records from the client. The records in dst's
// spare capacity are zeroed before they are written; values decoded into
// them earlier are not touched, so a record copied out of dst before
// stays intact.
func (c *Consumer[T]) poll(ctx context.Context, max int, dst []Record[T], reuse bool) ([]Record[T], error) {
	if c.closed.Load() {
		return dst, ErrClosed
	}
	if stopped := c.stoppedErr(); stopped != nil {
		return dst, stopped
	}

	for {
		if due := c.dueHolds(); len(due) > 0 {
			out, waiting, err := c.process(ctx, due, nil, dst, reuse)
			if waiting {
				continue
			}
			return out, err
		}
		fs, err := c.fetch(ctx, max)
		if err != nil {
			return dst, err
		}
		if fs == nil {
			continue // a hold is due
		}
		var errs []error
		fs.EachError(func(topic string, partition int32, err error) {
			if !ownWaitEnded(topic, partition, err) {
				errs = append(errs, fmt.Errorf("fetch %s[%d]: %w", topic, partition, err))
			}
		})
		var in []partInput
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) > 0 {
				in = append(in, partInput{tp: topicPartition{p.Topic, p.Partition}, records: p.Records})
			}
		})
		out, waiting, err := c.process(ctx, in, errs, dst, reuse)
		if waiting {
			continue
		}
		return out, err
	}
}

// partInput is records of one partition, in order, for Poll to hand over:
// fetched, or held back before.
type partInput struct {
	tp      topicPartition
	records []*kgo.Record
	held    bool
}

// process decodes, dead-letters or skips, and settles the records of each
// partition, appending them to dst, and holds back the partitions that
// cannot go on. waiting reports that nothing happened but records of
// retry topics held for their delays: Poll has nothing to return yet.
func (c *Consumer[T]) process(ctx context.Context, in []partInput, errs []error, dst []Record[T], reuse bool) (out []Record[T], waiting bool, _ error) {
	n := 0
	for _, p := range in {
		n += len(p.records)
	}
	base := len(dst)
	out = slices.Grow(dst, n)
	parts := make([]*partResult, 0, len(in))
	var stop error
	for _, p := range in {
		if !p.held && c.appendToHold(p) {
			continue
		}
		var pr *partResult
		out, pr, stop = c.decodePartition(ctx, p, out, reuse)
		parts = append(parts, pr)
		if stop != nil {
			break
		}
	}

	c.handleInvalid(ctx, parts)
	out = c.settle(parts, out, base)
	c.decoded.Add(uint64(len(out) - base))
	errs = append(errs, c.holdBack(parts)...)

	if stop != nil {
		c.mu.Lock()
		c.stopped = stop
		c.mu.Unlock()
		errs = append(errs, stop)
	}
	waiting = len(out) == base && len(errs) == 0
	for _, pr := range parts {
		waiting = waiting && !pr.until.IsZero() && len(pr.bad) == 0 && len(pr.rewritten) == 0
	}
	return out, waiting, errors.Join(errs...)
}

// ownWaitEnded reports whether a fetch error is only the end of Poll's own
// wait.
func ownWaitEnded(topic string, partition int32, err error) bool {
	return topic == "" && partition == -1 && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// fetch polls the client. It returns nil fetches, without error, when a
// held partition's retry comes due first, and an *AuthError when a broker
// refuses the credentials while it waits.
func (c *Consumer[T]) fetch(ctx context.Context, max int) (kgo.Fetches, error) {
	pctx, cancel := ctx, context.CancelFunc(func() {})
	if wait, ok := c.nextRetry(); ok {
		pctx, cancel = context.WithTimeout(ctx, wait)
	}
	defer func() { cancel() }()
	var authCtx context.Context
	if c.auth != nil {
		var aerr *AuthError
		var seq uint64
		authCtx, aerr, seq = c.auth.State()
		if aerr != nil && seq > c.authSeen {
			c.authSeen = seq
			return nil, fmt.Errorf("poll: %w", aerr)
		}
		var authCancel context.CancelFunc
		pctx, authCancel = context.WithCancel(pctx)
		stopAfter := context.AfterFunc(authCtx, authCancel)
		inner := cancel
		cancel = func() { stopAfter(); authCancel(); inner() }
	}
	var fs kgo.Fetches
	if max > 0 {
		fs = c.cl.PollRecords(pctx, max)
	} else {
		fs = c.cl.PollFetches(pctx)
	}
	if fs.IsClientClosed() {
		return nil, ErrClosed
	}
	if fs.NumRecords() > 0 {
		return fs, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ae := kafkaauth.Cause(authCtx); ae != nil {
		_, _, seq := c.auth.State()
		c.authSeen = seq
		return nil, fmt.Errorf("poll: %w", ae)
	}
	real := false
	fs.EachError(func(topic string, partition int32, err error) { real = real || !ownWaitEnded(topic, partition, err) })
	if pctx.Err() != nil && !real {
		return nil, nil
	}
	return fs, nil
}

// nextRetry returns how long until the first held partition's retry is
// due, if any is held.
func (c *Consumer[T]) nextRetry() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first time.Time
	for _, h := range c.holds {
		if first.IsZero() || h.retryAt.Before(first) {
			first = h.retryAt
		}
	}
	if first.IsZero() {
		return 0, false
	}
	return max(first.Sub(c.now()), time.Millisecond), true
}

// dueHolds returns the held records whose retry is due, in partition
// order.
func (c *Consumer[T]) dueHolds() []partInput {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	var due []partInput
	for tp, h := range c.holds {
		if !h.retryAt.After(now) {
			due = append(due, partInput{tp: tp, records: h.records, held: true})
		}
	}
	slices.SortFunc(due, func(a, b partInput) int {
		return cmp.Or(strings.Compare(a.tp.topic, b.tp.topic), cmp.Compare(a.tp.partition, b.tp.partition))
	})
	return due
}

// appendToHold adds fetched records of a partition that is held back to
// its held records, and reports whether it did. The client does not hand
// over records of a paused partition, so this is a safeguard.
func (c *Consumer[T]) appendToHold(p partInput) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.holds[p.tp]
	if h == nil {
		return false
	}
	h.records = append(h.records, p.records...)
	return true
}

// release drops the holds of partitions the group took away and resumes
// their fetching, so that they are read again, from their committed
// offsets, if they come back.
func (c *Consumer[T]) release(gone map[string][]int32) {
	c.mu.Lock()
	resume := map[string][]int32{}
	for topic, partitions := range gone {
		for _, p := range partitions {
			tp := topicPartition{topic, p}
			if _, ok := c.holds[tp]; ok {
				delete(c.holds, tp)
				resume[topic] = append(resume[topic], p)
			}
			delete(c.written, tp)
			delete(c.pending, tp)
			delete(c.delivered, tp)
			delete(c.marked, tp)
		}
	}
	c.mu.Unlock()
	if len(resume) > 0 {
		c.cl.ResumeFetchPartitions(resume)
	}
}

// partResult is what Poll made of one partition's records: the decoded
// ones, out[start:end], then at most one record the partition is held at.
type partResult struct {
	tp         topicPartition
	start, end int
	// before is the partition's last good offset delivered before this
	// Poll, and last the last one delivered in it or before; -1 for none.
	before, last int64
	// bad are the records that failed permanently, for the policy;
	// rewritten are records whose dead letters were written before their
	// partition was held back, now only to be marked.
	bad, rewritten []*invalidRecord
	// holdAt is the record the partition is held back at, if any, and
	// holdErr why; records are the partition's records given to Poll.
	holdAt  *kgo.Record
	holdErr error
	// until is when holdAt, a record of a retry topic, is due: it is held
	// not for a failure but for its delay.
	until   time.Time
	records []*kgo.Record
	held    bool // the records come from a hold
}

type invalidRecord struct {
	raw   *kgo.Record
	err   *DecodeError
	after int64
	// failed is the dead-letter write's error.
	failed error
}

// decodePartition decodes p's records into out, in order, up to the first
// that fails transiently. A permanent failure under StopOnInvalid ends it
// and is returned. With reuse, a record is decoded into the value its slot
// in out's spare capacity holds (ReuseValues).
func (c *Consumer[T]) decodePartition(ctx context.Context, p partInput, out []Record[T], reuse bool) ([]Record[T], *partResult, error) {
	tp := p.tp
	c.mu.Lock()
	last, ok := c.delivered[tp]
	written := c.written[tp]
	c.mu.Unlock()
	if !ok {
		last = -1
	}
	pr := &partResult{tp: tp, start: len(out), before: last, records: p.records, held: p.held}
	var stop error
	for _, r := range p.records {
		if written[r.Offset] {
			pr.rewritten = append(pr.rewritten, &invalidRecord{raw: r, after: last})
			continue
		}
		if due, ok := c.due(r); ok && due.After(c.now()) {
			pr.holdAt, pr.until = r, due
			break
		}
		// In place: a Record[T] is large, and a literal appended would be
		// built and then copied. out has room (process grew it), and the
		// slot may hold an earlier poll's record (AppendPoll).
		out = out[:len(out)+1]
		rec := &out[len(out)-1]
		if reuse && r.Value != nil {
			if c.reset != nil {
				c.reset(&rec.Value)
			}
			rec.Tombstone = false
		} else {
			clear(out[len(out)-1:])
		}
		rec.Topic, rec.Partition, rec.Offset, rec.Timestamp = r.Topic, r.Partition, r.Offset, r.Timestamp
		rec.Headers, rec.Key, rec.raw = r.Headers, r.Key, r
		if r.Value == nil {
			// A null value, not an empty one: nothing to decode.
			rec.Tombstone = true
			last = r.Offset
			continue
		}
		var notBefore time.Time
		id := -1
		if len(c.unknown) > 0 {
			// Rare: only while a schema ID is being confirmed unknown.
			if id, _ = SchemaID(r.Value); id >= 0 {
				if first, ok := c.unknown[id]; ok {
					notBefore = first.Add(c.grace)
				}
			}
		}
		err := c.serde.decode(ctx, r.Value, &rec.Value, notBefore)
		if err == nil {
			last = r.Offset
			if id >= 0 {
				delete(c.unknown, id)
			}
			continue
		}
		out = out[:len(out)-1]
		de := decodeError(r, err)
		if !c.permanent(de) {
			pr.holdAt, pr.holdErr = r, de
			if errors.Is(err, ErrUnknownSchemaID) {
				pr.holdErr = fmt.Errorf("%w (not trusted before %s: a registry that is starting may not know its schemas yet)",
					de, c.unknown[de.SchemaID].Add(c.grace).Format(time.RFC3339))
			}
			break
		}
		if c.obs != nil {
			c.obs.OnDecodeError(r.Topic, de)
		}
		if c.policy.mode == stopOnInvalid {
			stop = de
			break
		}
		pr.bad = append(pr.bad, &invalidRecord{raw: r, err: de, after: last})
	}
	pr.end, pr.last = len(out), last
	return out, pr, stop
}

// permanent is Permanent, except that the registry's word that a schema
// ID does not exist is trusted only when it still says so UnknownIDGrace
// after it first did: a registry restarting from its storage answers "not
// found" for IDs it has not loaded yet.
func (c *Consumer[T]) permanent(de *DecodeError) bool {
	if !Permanent(de.Err) {
		return false
	}
	if c.grace <= 0 || !errors.Is(de.Err, ErrUnknownSchemaID) {
		return true
	}
	now := c.now()
	first, ok := c.unknown[de.SchemaID]
	if !ok {
		c.unknown[de.SchemaID] = now
		return false
	}
	return now.Sub(first) >= c.grace
}

func decodeError(r *kgo.Record, err error) *DecodeError {
	id, idErr := SchemaID(r.Value)
	if idErr != nil {
		id = -1
	}
	return &DecodeError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, SchemaID: id, Err: err}
}

// handleInvalid dead-letters or skips the permanently bad records. When a
// dead letter cannot be written, its partition is held back at its record,
// and nothing after it in the partition is delivered, skipped or marked.
func (c *Consumer[T]) handleInvalid(ctx context.Context, parts []*partResult) {
	var bad []*invalidRecord
	for _, pr := range parts {
		bad = append(bad, pr.bad...)
	}
	if len(bad) == 0 {
		return
	}
	if c.policy.mode != deadLetter {
		return
	}
	dlq := make([]*kgo.Record, len(bad))
	for i, b := range bad {
		dlq[i] = deadLetterRecord(c.policy.topic, b.raw, c.origin(b.raw), StageDecode, b.err.SchemaID, 1, b.err.Err)
	}
	for i, res := range c.cl.ProduceSync(ctx, dlq...) {
		if res.Err != nil {
			bad[i].failed = fmt.Errorf("dead-letter %s[%d]@%d to %q: %w",
				bad[i].raw.Topic, bad[i].raw.Partition, bad[i].raw.Offset, c.policy.topic, res.Err)
		}
	}
	for _, pr := range parts {
		for _, b := range pr.bad {
			if b.failed != nil {
				pr.holdAt, pr.holdErr = b.raw, b.failed
				break
			}
		}
	}
}

// settle records what Poll hands over: it drops the records of each
// partition after the record it is held at, counts and marks the bad
// records that were handled, and remembers the last good offset
// delivered. It returns out without the dropped records.
func (c *Consumer[T]) settle(parts []*partResult, out []Record[T], base int) []Record[T] {
	// Drop what comes after the record a partition is held at: decoding
	// stops at a transient failure, but dead letters are written after
	// decoding. Each partition's records move down over what was dropped
	// before them.
	kept := out[:base]
	for _, pr := range parts {
		recs := out[pr.start:pr.end]
		if pr.holdAt != nil {
			n := 0
			for n < len(recs) && recs[n].Offset < pr.holdAt.Offset {
				n++
			}
			if n < len(recs) {
				recs = recs[:n]
				pr.last = pr.before
				if n > 0 {
					pr.last = recs[n-1].Offset
				}
			}
		}
		pr.start = len(kept)
		kept = append(kept, recs...)
		pr.end = len(kept)
	}
	// The slots past kept hold copies of records moved down, sharing
	// their values' maps and slices: a later decode into them that reuses
	// values (ReuseValues) must not reach a record handed out now.
	clear(out[len(kept):])

	held := func(pr *partResult, r *kgo.Record) bool { return pr.holdAt != nil && r.Offset >= pr.holdAt.Offset }
	var handled, counted []*invalidRecord
	c.mu.Lock()
	for _, pr := range parts {
		for _, b := range pr.bad {
			switch {
			case !held(pr, b.raw):
				counted = append(counted, b)
				handled = append(handled, b)
			case b.failed == nil && c.policy.mode == deadLetter:
				// Held back after its dead letter was written: remembered,
				// so that it is not written again.
				if c.written[pr.tp] == nil {
					c.written[pr.tp] = map[int64]bool{}
				}
				c.written[pr.tp][b.raw.Offset] = true
				counted = append(counted, b)
			}
		}
		for _, b := range pr.rewritten {
			if !held(pr, b.raw) {
				handled = append(handled, b)
				delete(c.written[pr.tp], b.raw.Offset)
			}
		}
		if len(c.written[pr.tp]) == 0 {
			delete(c.written, pr.tp)
		}
		if pr.last >= 0 {
			c.delivered[pr.tp] = pr.last
		}
	}
	for _, b := range handled {
		tp := topicPartition{b.raw.Topic, b.raw.Partition}
		if marked, ok := c.marked[tp]; b.after < 0 || ok && marked >= b.after {
			c.cl.MarkCommitRecords(b.raw)
			continue
		}
		c.pending[tp] = append(c.pending[tp], pendingMark{after: b.after, raw: b.raw})
	}
	c.mu.Unlock()
	for _, b := range counted {
		c.countHandled(b)
	}
	return kept
}

// countHandled counts a bad record that was dead-lettered or skipped, and
// reports it.
func (c *Consumer[T]) countHandled(b *invalidRecord) {
	if c.policy.mode == deadLetter {
		c.deadLettered.Add(1)
		if c.obs != nil {
			c.obs.OnDeadLetter(b.raw.Topic)
		}
		return
	}
	c.skipped.Add(1)
	if c.obs != nil {
		c.obs.OnSkip(b.raw.Topic)
	}
	c.log.Warn("skipped undecodable record", "topic", b.raw.Topic, "partition", b.raw.Partition,
		"offset", b.raw.Offset, "schema_id", b.err.SchemaID, "error", b.err.Err)
}

// holdBack keeps, for each partition that cannot go on, its records from
// the one it is held at, pauses its fetching until the retry is due, and
// returns a *HoldError for each. A held partition that got through is
// resumed.
func (c *Consumer[T]) holdBack(parts []*partResult) []error {
	var errs []error
	resume := map[string][]int32{}
	c.mu.Lock()
	defer func() {
		c.mu.Unlock()
		if len(resume) > 0 {
			c.cl.ResumeFetchPartitions(resume)
		}
	}()
	for _, pr := range parts {
		h := c.holds[pr.tp]
		if pr.held && h == nil {
			continue // revoked while Poll retried it
		}
		if pr.holdAt == nil {
			if h != nil {
				delete(c.holds, pr.tp)
				resume[pr.tp.topic] = append(resume[pr.tp.topic], pr.tp.partition)
			}
			continue
		}
		r := pr.holdAt
		i := slices.Index(pr.records, r)
		if h == nil {
			h = &hold{}
			c.holds[pr.tp] = h
			c.cl.PauseFetchPartitions(map[string][]int32{r.Topic: {r.Partition}})
		}
		if !pr.until.IsZero() {
			// A retry topic's record that waits for its delay.
			h.records, h.attempt, h.retryAt = pr.records[i:], 0, pr.until
			continue
		}
		if len(h.records) == 0 || h.records[0] != r {
			h.attempt = 0 // it got further: a new record is held
		}
		h.records = pr.records[i:]
		h.attempt++
		delay := c.retry.Delay(h.attempt - 1)
		h.retryAt = c.now().Add(delay)
		c.held.Add(1)
		herr := &HoldError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Attempt: h.attempt, Retry: delay, Err: pr.holdErr}
		if c.obs != nil {
			c.obs.OnHold(r.Topic, herr)
		}
		c.log.Warn("holding partition at a record that failed transiently", "topic", r.Topic, "partition", r.Partition,
			"offset", r.Offset, "attempt", h.attempt, "retry_in", delay, "error", pr.holdErr)
		errs = append(errs, herr)
	}
	return errs
}

// deadLetterRecord is r for the dead-letter topic: its key, value,
// timestamp and headers, then the provenance headers, which say that it was
// read at from (r's own place, or where a record of a retry topic was
// first read).
func deadLetterRecord(topic string, r *kgo.Record, from RetryInfo, stage string, schemaID, attempts int, cause error) *kgo.Record {
	headers := make([]kgo.RecordHeader, 0, len(r.Headers)+7)
	headers = append(headers, r.Headers...)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderSourceTopic, Value: []byte(from.Topic)},
		kgo.RecordHeader{Key: HeaderSourcePartition, Value: []byte(strconv.FormatInt(int64(from.Partition), 10))},
		kgo.RecordHeader{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(from.Offset, 10))},
		kgo.RecordHeader{Key: HeaderSchemaID, Value: []byte(strconv.Itoa(schemaID))},
		kgo.RecordHeader{Key: HeaderError, Value: []byte(cause.Error())},
		kgo.RecordHeader{Key: HeaderStage, Value: []byte(stage)},
		kgo.RecordHeader{Key: HeaderAttempts, Value: []byte(strconv.Itoa(attempts))},
	)
	return &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: headers, Timestamp: r.Timestamp}
}

// MarkProcessed marks records as processed, so their offsets are committed
// with the next commit. Mark records of a partition in the order Poll
// returned them: committing an offset commits everything before it.
func (c *Consumer[T]) MarkProcessed(recs ...Record[T]) {
	if len(recs) == 0 {
		return
	}
	// Only the highest record of each partition counts: committing it
	// commits those before it. Records come grouped by partition, so the
	// last one found is nearly always the one to update.
	var buf [8]*kgo.Record
	last := buf[:0]
	for i := range recs {
		r := recs[i].raw
		if r == nil {
			continue
		}
		j := len(last) - 1
		for j >= 0 && (last[j].Partition != r.Partition || last[j].Topic != r.Topic) {
			j--
		}
		switch {
		case j < 0:
			last = append(last, r)
		case r.Offset > last[j].Offset:
			last[j] = r
		}
	}
	if len(last) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cl.MarkCommitRecords(last...)
	for _, r := range last {
		tp := topicPartition{r.Topic, r.Partition}
		if m, ok := c.marked[tp]; !ok || r.Offset > m {
			c.marked[tp] = r.Offset
		}
		if len(c.pending[tp]) == 0 {
			continue
		}
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
