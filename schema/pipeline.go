package schema

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/internal/backoff"
	"github.com/streamkit/streamkit/internal/runloop"
)

// Transform maps one input record of a Pipeline to the messages it
// writes: none, one or several. An error aborts the transaction, and the
// records are read and transformed again after a backoff, until the
// transform succeeds; an error made with Reject sends the record to the
// pipeline's InvalidPolicy instead, inside the same transaction. The
// record must not be used after Transform returns.
type Transform[In, Out any] func(ctx context.Context, r *Record[In]) ([]Message[Out], error)

// PipelineOpt configures a Pipeline (NewPipeline).
type PipelineOpt interface{ applyPipeline(*pipelineConfig) }

type pipelineOptFunc func(*pipelineConfig)

func (f pipelineOptFunc) applyPipeline(c *pipelineConfig) { f(c) }

type pipelineConfig struct {
	txnID              string
	inSchema           *Schema
	outSchema          *Schema
	outRegistration    Registration
	anyRecordName      bool
	onInvalid          InvalidPolicy
	clientOpts         []kgo.Opt
	logger             *slog.Logger
	backoff            backoff.Policy
	transactionTimeout time.Duration
	maxRecords         int
}

// WithTransactionalID sets the pipeline's transactional ID, also its
// static group instance ID; NewPipeline requires it. It must be stable
// across restarts of one instance (a pod's name, a host's) and unique
// among the instances: a restarted instance with the same ID aborts what
// its predecessor left open and takes its partitions back at once, where
// a new ID would leave readers waiting for the old transaction to time
// out and the group for the old member's session to expire. A static
// member does not leave the group when it stops: its partitions wait for
// it until its session times out.
func WithTransactionalID(id string) PipelineOpt {
	return pipelineOptFunc(func(c *pipelineConfig) { c.txnID = id })
}

// WithInputSchema sets the schema input records are read into, as
// WithSchema does for a Consumer; the Go type must fit it.
func WithInputSchema(s *Schema) PipelineOpt {
	return pipelineOptFunc(func(c *pipelineConfig) { c.inSchema = s })
}

// WithOutputSchema sets the schema output messages are written with, as
// WithSchema does for a Producer; the Go type must fit it.
func WithOutputSchema(s *Schema) PipelineOpt {
	return pipelineOptFunc(func(c *pipelineConfig) { c.outSchema = s })
}

// WithOutputRegistration sets how the output schema gets its ID,
// overriding the default LookupOnly: a pipeline writes what the team's
// CI registered.
func WithOutputRegistration(r Registration) PipelineOpt {
	return pipelineOptFunc(func(c *pipelineConfig) { c.outRegistration = r })
}

// WithInputAnyRecordName reads input records of another record name, as
// AnyRecordName does for a Consumer.
func WithInputAnyRecordName() PipelineOpt {
	return pipelineOptFunc(func(c *pipelineConfig) { c.anyRecordName = true })
}

// WithPipelineInvalid sets what the pipeline does with an input record it
// cannot decode or that the transform rejects, overriding the default
// StopOnInvalid. A dead letter is written inside the transaction: exactly
// once too.
func WithPipelineInvalid(p InvalidPolicy) PipelineOpt {
	return pipelineOptFunc(func(c *pipelineConfig) { c.onInvalid = p })
}

// WithPipelineClientOpts adds options for the pipeline's client, e.g.
// kgo.SeedBrokers (required) and SASL or TLS settings.
func WithPipelineClientOpts(opts ...kgo.Opt) PipelineOpt {
	return pipelineOptFunc(func(c *pipelineConfig) { c.clientOpts = append(c.clientOpts, opts...) })
}

// WithPipelineLogger sets the logger, overriding the default that
// discards.
func WithPipelineLogger(l *slog.Logger) PipelineOpt {
	return pipelineOptFunc(func(c *pipelineConfig) { c.logger = l })
}

// WithPipelineBackoff sets the wait before a batch whose transaction was
// aborted is tried again: min, doubling up to max. The default is 250ms
// to 10s.
func WithPipelineBackoff(min, max time.Duration) PipelineOpt {
	return pipelineOptFunc(func(c *pipelineConfig) { c.backoff = backoff.Policy{Min: min, Max: max} })
}

// WithTransactionTimeout sets how long the brokers wait for a transaction
// of a pipeline that stopped answering before they abort it, overriding
// the default 20s. Readers of the output wait at most this long behind a
// crashed instance that is not restarted with its transactional ID.
func WithTransactionTimeout(d time.Duration) PipelineOpt {
	return pipelineOptFunc(func(c *pipelineConfig) { c.transactionTimeout = d })
}

// WithTransactionRecords bounds the input records of one transaction,
// overriding the default 500: fewer make outputs visible sooner and
// repeat less work after an abort; more make fewer transactions.
func WithTransactionRecords(n int) PipelineOpt {
	return pipelineOptFunc(func(c *pipelineConfig) { c.maxRecords = n })
}

// PipelineStats counts what a Pipeline did.
type PipelineStats struct {
	// Committed transactions, and the input records they consumed and the
	// output records they wrote.
	Transactions, Consumed, Produced uint64
	// Aborted transactions: a transform that failed, a registry or
	// broker that failed, a rebalance. Their records are read again.
	Aborted uint64
	// DeadLettered and Skipped input records, in committed transactions.
	DeadLettered, Skipped uint64
}

// Pipeline reads In records as a member of a consumer group, transforms
// each into Out messages, and writes them to one topic in Kafka
// transactions that also commit the input offsets (franz-go's
// GroupTransactSession): each transaction's outputs become visible to
// read_committed readers together with its inputs' commit, or not at all.
// A crash at any point leaves every input transformed exactly once in
// what such a reader sees; a restarted instance reads from the last
// committed transaction. It reads its inputs read_committed too, so
// pipelines chain.
//
// Run must be called from one goroutine at a time; Stats and Close are
// safe for concurrent use with it.
type Pipeline[In, Out any] struct {
	sess   *kgo.GroupTransactSession
	in     *Serde[In]
	out    *Serde[Out]
	output string
	cfg    pipelineConfig
	log    *slog.Logger

	running runloop.Guard
	closed  atomic.Bool
	// unknown holds when the registry first said a schema ID does not
	// exist (Run's goroutine only): as a Consumer, the pipeline believes
	// it only after unknownIDGrace.
	unknown map[int]time.Time

	transactions, consumed, produced, aborted, deadLettered, skipped atomic.Uint64
}

// NewPipeline returns a pipeline from the group's inputs to output. It
// takes WithTransactionalID (required), WithInputSchema,
// WithOutputSchema, WithOutputRegistration, WithInputAnyRecordName,
// WithPipelineInvalid, WithPipelineClientOpts (with kgo.SeedBrokers),
// WithPipelineLogger, WithPipelineBackoff, WithTransactionTimeout and
// WithTransactionRecords.
//
// Before it returns it checks that the Go types fit their schemas, finds
// the output schema's ID (under LookupOnly, a schema the registry lacks is
// ErrNotRegistered), and that the output topic and any dead-letter topic
// exist (ErrTopicNotFound).
func NewPipeline[In, Out any](ctx context.Context, reg *Registry, group string, inputs []string, output string, opts ...PipelineOpt) (*Pipeline[In, Out], error) {
	cfg := pipelineConfig{
		outRegistration:    LookupOnly(),
		onInvalid:          StopOnInvalid(),
		logger:             slog.New(slog.DiscardHandler),
		backoff:            backoff.Policy{Min: 250 * time.Millisecond, Max: 10 * time.Second},
		transactionTimeout: 20 * time.Second,
		maxRecords:         500,
	}
	for _, o := range opts {
		if o != nil {
			o.applyPipeline(&cfg)
		}
	}
	var errs []error
	switch {
	case reg == nil:
		errs = append(errs, errors.New("nil registry"))
	case group == "" || len(inputs) == 0 || output == "":
		errs = append(errs, errors.New("a group, at least one input topic and an output topic are required"))
	}
	if cfg.txnID == "" {
		errs = append(errs, errors.New("a transactional ID is required (WithTransactionalID)"))
	}
	if cfg.logger == nil {
		errs = append(errs, errors.New("nil logger"))
	}
	if err := cfg.outRegistration.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.onInvalid.validate(); err != nil {
		errs = append(errs, err)
	}
	if b := cfg.backoff; b.Min <= 0 || b.Max < b.Min {
		errs = append(errs, fmt.Errorf("backoff from %s to %s: want 0 < min <= max", b.Min, b.Max))
	}
	if cfg.maxRecords < 1 {
		errs = append(errs, fmt.Errorf("transaction records %d: want at least 1", cfg.maxRecords))
	}
	if cfg.transactionTimeout < time.Second {
		errs = append(errs, fmt.Errorf("transaction timeout %s: want at least 1s", cfg.transactionTimeout))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("new pipeline: %w", errors.Join(errs...))
	}

	inCfg := defaultConfig()
	inCfg.schema, inCfg.registration, inCfg.anyRecordName = cfg.inSchema, UseLatest(), cfg.anyRecordName
	in, err := newSerde[In](reg, inCfg)
	if err != nil {
		return nil, fmt.Errorf("new pipeline: input: %w", err)
	}
	outCfg := defaultConfig()
	outCfg.schema, outCfg.registration = cfg.outSchema, cfg.outRegistration
	out, err := newSerde[Out](reg, outCfg)
	if err != nil {
		return nil, fmt.Errorf("new pipeline: output: %w", err)
	}
	if _, err := out.Prepare(ctx, output); err != nil {
		return nil, fmt.Errorf("new pipeline: output %s: %w", output, err)
	}

	p := &Pipeline[In, Out]{in: in, out: out, output: output, cfg: cfg, log: cfg.logger, unknown: map[int]time.Time{}}
	kopts := append([]kgo.Opt{
		kgo.TransactionalID(cfg.txnID),
		kgo.TransactionTimeout(cfg.transactionTimeout),
		kgo.ConsumerGroup(group),
		// Static membership under the same stable ID: a restarted
		// instance takes its partitions back at once, without waiting
		// for its dead predecessor's session to time out.
		kgo.InstanceID(cfg.txnID),
		kgo.ConsumeTopics(inputs...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}, cfg.clientOpts...)
	p.sess, err = kgo.NewGroupTransactSession(kopts...)
	if err != nil {
		return nil, fmt.Errorf("new pipeline: %w", err)
	}
	check := []string{output}
	if cfg.onInvalid.mode == deadLetter {
		check = append(check, cfg.onInvalid.topic)
	}
	if err := topicsExist(ctx, p.sess.Client(), check...); err != nil {
		p.sess.Close()
		return nil, fmt.Errorf("new pipeline: %w", err)
	}
	return p, nil
}

// Stats returns what the pipeline has counted so far.
func (p *Pipeline[In, Out]) Stats() PipelineStats {
	return PipelineStats{
		Transactions: p.transactions.Load(), Consumed: p.consumed.Load(), Produced: p.produced.Load(),
		Aborted: p.aborted.Load(), DeadLettered: p.deadLettered.Load(), Skipped: p.skipped.Load(),
	}
}

// Client returns the pipeline's client.
func (p *Pipeline[In, Out]) Client() *kgo.Client { return p.sess.Client() }

// Run transforms records in transactions until ctx ends, then finishes the
// transaction in hand and returns nil. Each poll's records, at most
// WithTransactionRecords, are one transaction. It returns the *DecodeError or *HandlerError of a record
// under StopOnInvalid (the transaction is aborted: nothing of it is
// visible, and a restart meets the record again), a transaction error
// that franz-go cannot recover from, ErrClosed after Close, and
// ErrRunning while another Run is active.
func (p *Pipeline[In, Out]) Run(ctx context.Context, transform Transform[In, Out]) error {
	if transform == nil {
		return errors.New("run pipeline: nil transform")
	}
	leave, err := p.running.Enter()
	if err != nil {
		return fmt.Errorf("run pipeline: %w", ErrRunning)
	}
	defer leave()
	failures := 0
	for ctx.Err() == nil {
		if p.closed.Load() {
			return ErrClosed
		}
		fs := p.sess.PollRecords(ctx, p.cfg.maxRecords)
		if fs.IsClientClosed() {
			return ErrClosed
		}
		fs.EachError(func(topic string, partition int32, err error) {
			if !ownWaitEnded(topic, partition, err) {
				p.log.Warn("fetch failed", "topic", topic, "partition", partition, "error", err)
			}
		})
		if fs.NumRecords() == 0 {
			continue
		}
		// The transaction is finished even when ctx ends meanwhile.
		tctx := context.WithoutCancel(ctx)
		committed, fatal, err := p.transact(tctx, fs, transform)
		switch {
		case fatal != nil:
			return fatal
		case committed:
			failures = 0
			continue
		}
		p.aborted.Add(1)
		delay := p.cfg.backoff.Delay(failures)
		failures++
		p.log.Warn("transaction aborted; its records are read again", "retry_in", delay, "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
	return nil
}

// transact runs one transaction over fs's records. It returns whether it
// committed; fatal ends Run; err says why an aborted transaction aborted.
func (p *Pipeline[In, Out]) transact(ctx context.Context, fs kgo.Fetches, transform Transform[In, Out]) (committed bool, fatal, err error) {
	if err := p.sess.Begin(); err != nil {
		return false, fmt.Errorf("run pipeline: begin: %w", err), nil
	}
	var (
		mu          sync.Mutex
		produceErr  error
		produced    uint64
		consumed    uint64
		dead, skips uint64
		stop        error
	)
	promise := func(_ *kgo.Record, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && produceErr == nil {
			produceErr = err
		}
	}

	iter := fs.RecordIter()
	for !iter.Done() && err == nil && stop == nil {
		raw := iter.Next()
		consumed++
		rec := Record[In]{Topic: raw.Topic, Partition: raw.Partition, Offset: raw.Offset, Timestamp: raw.Timestamp,
			Headers: raw.Headers, Key: raw.Key, raw: raw}
		var msgs []Message[Out]
		var bad error
		attempts := 0
		if raw.Value == nil {
			rec.Tombstone = true
		} else if derr := p.in.Decode(ctx, raw.Value, &rec.Value); derr != nil {
			de := decodeError(raw, derr)
			if !p.permanent(de) {
				err = de // the registry: abort and try again
				break
			}
			bad = de
		}
		if bad == nil {
			attempts = 1
			msgs, bad = p.call(ctx, transform, &rec)
			if bad != nil && !Permanent(bad) {
				err = &HandlerError{Topic: raw.Topic, Partition: raw.Partition, Offset: raw.Offset, Attempts: 1, Err: bad}
				break
			}
			if bad != nil {
				bad = &HandlerError{Topic: raw.Topic, Partition: raw.Partition, Offset: raw.Offset, Attempts: 1, Err: bad}
			}
		}
		if bad != nil {
			switch p.cfg.onInvalid.mode {
			case deadLetter:
				stage, id, cause := StageHandle, -1, bad
				var de *DecodeError
				if errors.As(bad, &de) {
					stage, id, cause, attempts = StageDecode, de.SchemaID, de.Err, 1
				} else if sid, serr := SchemaID(raw.Value); serr == nil {
					id = sid
				}
				p.sess.Produce(ctx, deadLetterRecord(p.cfg.onInvalid.topic, raw, placeOf(raw), stage, id, attempts, cause), promise)
				dead++
			case skipInvalid:
				p.log.Warn("skipped an input record", "topic", raw.Topic, "partition", raw.Partition, "offset", raw.Offset, "error", bad)
				skips++
			default:
				stop = bad
			}
			continue
		}
		for i := range msgs {
			r, eerr := p.record(ctx, &msgs[i])
			if eerr != nil {
				if errors.Is(eerr, ErrUnavailable) || errors.Is(eerr, context.DeadlineExceeded) {
					err = eerr // the registry: abort and try again
				} else {
					stop = eerr // an output its schema cannot hold: the code's fault
				}
				break
			}
			p.sess.Produce(ctx, r, promise)
			produced++
		}
	}
	if err == nil && stop == nil {
		// Flushed by End: a failed produce aborts.
		if ferr := p.sess.Client().Flush(ctx); ferr != nil {
			err = ferr
		}
		mu.Lock()
		if produceErr != nil {
			err = produceErr
		}
		mu.Unlock()
	}
	how := kgo.TryCommit
	if err != nil || stop != nil {
		how = kgo.TryAbort
	}
	ok, endErr := p.sess.End(ctx, how)
	if endErr != nil {
		return false, fmt.Errorf("run pipeline: end transaction: %w", endErr), nil
	}
	if stop != nil {
		return false, stop, nil
	}
	if !ok {
		if err == nil {
			err = errors.New("the group rebalanced during the transaction")
		}
		return false, nil, err
	}
	p.transactions.Add(1)
	p.consumed.Add(consumed)
	p.produced.Add(produced)
	p.deadLettered.Add(dead)
	p.skipped.Add(skips)
	return true, nil, nil
}

// permanent is Permanent, except that an unknown schema ID counts only
// once the registry has said so for unknownIDGrace (a registry restarting
// from its storage does not know its IDs yet).
func (p *Pipeline[In, Out]) permanent(de *DecodeError) bool {
	if !Permanent(de.Err) {
		return false
	}
	if !errors.Is(de.Err, ErrUnknownSchemaID) {
		return true
	}
	first, ok := p.unknown[de.SchemaID]
	if !ok {
		p.unknown[de.SchemaID] = time.Now()
		return false
	}
	return time.Since(first) >= unknownIDGrace
}

// unknownIDGrace is how long a pipeline asks again before it believes the
// registry that a schema ID does not exist, as a Consumer's default.
const unknownIDGrace = 15 * time.Second

// call runs the transform, turning a panic into a rejection.
func (p *Pipeline[In, Out]) call(ctx context.Context, transform Transform[In, Out], r *Record[In]) (msgs []Message[Out], err error) {
	defer func() {
		if v := recover(); v != nil {
			msgs, err = nil, Reject(fmt.Errorf("transform panicked: %v", v))
		}
	}()
	return transform(ctx, r)
}

// record encodes an output message.
func (p *Pipeline[In, Out]) record(ctx context.Context, m *Message[Out]) (*kgo.Record, error) {
	r := &kgo.Record{Topic: p.output, Key: m.Key, Headers: m.Headers, Timestamp: m.Timestamp}
	if !m.Tombstone {
		v, err := p.out.AppendEncode(ctx, nil, p.output, m.Value)
		if err != nil {
			return nil, fmt.Errorf("encode %v: %w", reflect.TypeFor[Out](), err)
		}
		r.Value = v
	}
	return r, nil
}

// Close leaves the group and closes the client; a transaction in hand is
// aborted. It may be called more than once.
func (p *Pipeline[In, Out]) Close() {
	if p.closed.Swap(true) {
		return
	}
	p.sess.Close()
}
