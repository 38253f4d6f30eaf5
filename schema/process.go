package schema

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Handler processes one record for Consumer.Process. It returns nil when
// the record is done. Any other error is tried again in place, with
// backoff (WithBackoff), up to the attempts WithRetries allows; an error
// made with Reject is not tried again. A record that still fails goes to
// the next retry topic, if the consumer has them (WithRetryTopics), and
// after the last one to the consumer's InvalidPolicy, as a record that
// cannot be decoded does: the dead-letter topic, a skip, or the end of
// Process. A Rejected record goes to the policy at once.
//
// ctx ends when Process gives up waiting for the handler at shutdown or
// on a rebalance (WithDrainTimeout), not when Process's own ctx ends: a
// record being handled is finished, not abandoned half-way. The record and
// its value must not be used after the handler returns.
type Handler[T any] func(ctx context.Context, r *Record[T]) error

// rejectedError is a handler's error that no retry can cure.
type rejectedError struct{ err error }

func (e *rejectedError) Error() string { return e.err.Error() }
func (e *rejectedError) Unwrap() error { return e.err }

// Reject marks a handler's error as one that no retry can cure, such as a
// broken business rule or a field the service cannot accept: the record
// goes to the InvalidPolicy at once, without the retries of WithRetries.
// Permanent reports true for it. Reject(nil) is nil.
func Reject(err error) error {
	if err == nil {
		return nil
	}
	return &rejectedError{err: err}
}

// HandlerError is a record that the handler of Consumer.Process failed to
// process, after Attempts attempts. Process returns it under
// StopOnInvalid, and its Err is the handler's last error.
type HandlerError struct {
	Topic     string
	Partition int32
	Offset    int64
	Attempts  int
	Err       error
}

func (e *HandlerError) Error() string {
	return fmt.Sprintf("handle %s[%d]@%d: failed after %d attempt(s): %v", e.Topic, e.Partition, e.Offset, e.Attempts, e.Err)
}

func (e *HandlerError) Unwrap() error { return e.Err }

// RetryForever, given to WithRetries, tries a failing record again until
// the handler succeeds, Reject's it, or Process stops: it is never
// dead-lettered for an error that may go away (a downstream outage), and
// its key waits.
const RetryForever = -1

// Process reads records and hands each to h until ctx ends or a record
// fails under StopOnInvalid, with at-least-once delivery: a record's
// offset is committed only once it and every record before it in its
// partition are done (handled, or dead-lettered or skipped by the
// policy).
//
// Records of different keys are handled concurrently, by up to
// WithConcurrency goroutines, and records of one key one at a time in
// partition order; records without a key keep their partition's order
// among themselves. The records taken from the client and not yet done
// are bounded by WithMaxPending. A record that fails is tried again in
// place (its key waits: order is kept), then written to a retry topic
// with a delay if the consumer has them (its key goes on: order is traded
// for throughput, see WithRetryTopics), and handed to the policy last.
//
// When partitions are revoked, Process stops starting their records,
// waits for those being handled (up to WithDrainTimeout), and commits what
// is done before the group moves them: their next owner starts at the
// first record not done, so none is lost and none is handled twice. The
// same happens when ctx ends, after which Process commits, leaves the
// group's partitions to the caller's Close, and returns nil. A lost
// partition (a session expired) cannot be committed: its records may be
// handled again by its next owner.
//
// Poll's transient errors (a *HoldError, a fetch error, an *AuthError)
// are logged and Process goes on; it returns ErrClosed after Close, the
// *DecodeError or *HandlerError that stops it under StopOnInvalid (every
// later Poll or Process returns it again), and ErrRunning while another
// Process of the consumer runs. Process and Poll must not be used
// together. With a client given by WithClient, Process cannot see
// rebalances: a revoked partition's records may be handled twice.
func (c *Consumer[T]) Process(ctx context.Context, h Handler[T]) error {
	if h == nil {
		return errors.New("process: nil handler")
	}
	leave, err := c.processing.Enter()
	if err != nil {
		return fmt.Errorf("process: %w", ErrRunning)
	}
	defer leave()
	if c.closed.Load() {
		return ErrClosed
	}
	if stopped := c.stoppedErr(); stopped != nil {
		return stopped
	}
	p := newProcessor(c, h)
	hook := p.onRevoke
	c.revokeHook.Store(&hook)
	defer c.revokeHook.Store(nil)
	return p.run(ctx)
}

// processor is one run of Consumer.Process.
type processor[T any] struct {
	c *Consumer[T]
	h Handler[T]

	// hctx is the handlers' context: Process's without its cancellation,
	// canceled when a drain times out at shutdown.
	hctx    context.Context
	hcancel context.CancelFunc
	// pcancel ends the loop's wait in Poll when Process fails.
	pcancel context.CancelFunc
	workers sync.WaitGroup

	mu sync.Mutex
	// cond is broadcast when records are done or dropped and when Process
	// stops; the loop and revokes wait on it. idle is signaled when a key
	// queue is ready; workers wait on it.
	cond, idle *sync.Cond
	ready      []*keyQueue[T] // the key queues no worker has taken
	closed     bool           // no key queue will be ready any more
	// keys are the queues of the keys that have records not done.
	keys    map[topicPartition]map[string]*keyQueue[T]
	parts   map[topicPartition]*partTrack[T]
	pending int   // records taken from the client and not yet done or dropped
	stop    bool  // no more polls
	abort   bool  // no record is started any more: a failure, or a drain that timed out
	failed  error // the error that stops Process
}

// keyQueue is one key's records not done, in order; the first is being
// handled or next.
type keyQueue[T any] struct {
	tp    topicPartition
	key   string
	tasks []*task[T]
}

// task is one record of Process.
type task[T any] struct {
	rec  Record[T]
	part *partTrack[T]
	done bool
}

// partTrack follows one partition's records from dispatch to commit.
type partTrack[T any] struct {
	// order are the records dispatched and not yet marked, by offset.
	order    []*task[T]
	inflight int
	gone     bool // revoked or lost: nothing is started or marked
}

func newProcessor[T any](c *Consumer[T], h Handler[T]) *processor[T] {
	p := &processor[T]{
		c: c, h: h,
		keys:  map[topicPartition]map[string]*keyQueue[T]{},
		parts: map[topicPartition]*partTrack[T]{},
	}
	p.cond, p.idle = sync.NewCond(&p.mu), sync.NewCond(&p.mu)
	return p
}

func (p *processor[T]) run(ctx context.Context) error {
	p.hctx, p.hcancel = context.WithCancel(context.WithoutCancel(ctx))
	defer p.hcancel()
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	p.pcancel = pcancel
	stopWaking := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.stop = true
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stopWaking()
	for range p.c.concurrency {
		p.workers.Add(1)
		go p.work()
	}

	// One slice for every poll: dispatch copies each record into its task.
	var recs []Record[T]
	for {
		p.mu.Lock()
		for p.pending >= p.c.maxPending && !p.stop {
			p.cond.Wait()
		}
		stop, room := p.stop, p.c.maxPending-p.pending
		p.mu.Unlock()
		if stop {
			break
		}
		var err error
		recs, err = p.c.poll(pctx, room, recs[:0], false)
		p.dispatch(recs)
		p.c.cl.AllowRebalance()
		if err != nil && p.pollFailed(pctx, err) {
			break
		}
	}
	return p.shutdown()
}

// pollFailed logs Poll's transient errors and reports whether err ends
// Process.
func (p *processor[T]) pollFailed(ctx context.Context, err error) bool {
	var de *DecodeError
	var he *HandlerError
	switch {
	case errors.Is(err, ErrClosed) || errors.As(err, &he) || (errors.As(err, &de) && p.c.policy.mode == stopOnInvalid):
		p.fail(err)
		return true
	case ctx.Err() != nil:
		return true
	}
	var held *HoldError
	if !errors.As(err, &held) { // Poll logs its holds itself
		p.c.log.Warn("poll failed; polling again", "error", err)
	}
	return false
}

// fail stops Process with err, the first such error.
func (p *processor[T]) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed == nil {
		p.failed = err
	}
	p.stop, p.abort = true, true
	p.cond.Broadcast()
	p.pcancel()
}

// dispatch queues the records Poll returned behind their keys.
func (p *processor[T]) dispatch(recs []Record[T]) {
	if len(recs) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		tp := topicPartition{r.Topic, r.Partition}
		pt := p.parts[tp]
		if pt == nil || pt.gone {
			pt = &partTrack[T]{}
			p.parts[tp] = pt
		}
		t := &task[T]{rec: *r, part: pt}
		pt.order = append(pt.order, t)
		p.pending++
		byKey := p.keys[tp]
		if byKey == nil {
			byKey = map[string]*keyQueue[T]{}
			p.keys[tp] = byKey
		}
		if kq := byKey[string(r.Key)]; kq != nil {
			kq.tasks = append(kq.tasks, t)
			continue
		}
		kq := &keyQueue[T]{tp: tp, key: string(r.Key), tasks: []*task[T]{t}}
		byKey[kq.key] = kq
		p.ready = append(p.ready, kq)
		p.idle.Signal()
	}
}

// take returns the next ready key queue, waiting for one; nil once
// Process has stopped.
func (p *processor[T]) take() *keyQueue[T] {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.ready) == 0 && !p.closed {
		p.idle.Wait()
	}
	if len(p.ready) == 0 {
		return nil
	}
	kq := p.ready[0]
	p.ready[0] = nil
	p.ready = p.ready[1:]
	return kq
}

// work handles the records of one key after another until Process stops.
func (p *processor[T]) work() {
	defer p.workers.Done()
	for kq := p.take(); kq != nil; kq = p.take() {
		for {
			p.mu.Lock()
			if len(kq.tasks) == 0 {
				delete(p.keys[kq.tp], kq.key)
				if len(p.keys[kq.tp]) == 0 {
					delete(p.keys, kq.tp)
				}
				p.mu.Unlock()
				break
			}
			t := kq.tasks[0]
			if p.abort || t.part.gone {
				// Not started: its offset is not committed, so it is read
				// again by whoever owns the partition next.
				kq.tasks = kq.tasks[1:]
				p.pending--
				p.cond.Broadcast()
				p.mu.Unlock()
				continue
			}
			t.part.inflight++
			p.mu.Unlock()

			done := p.handle(t)

			p.mu.Lock()
			kq.tasks = kq.tasks[1:]
			t.part.inflight--
			p.pending--
			if done {
				t.done = true
				p.advance(t.part)
			}
			p.cond.Broadcast()
			p.mu.Unlock()
		}
	}
}

// advance marks the partition's longest run of done records from its
// first not yet marked. p.mu is held.
func (p *processor[T]) advance(pt *partTrack[T]) {
	if pt.gone {
		return
	}
	n := 0
	for n < len(pt.order) && pt.order[n].done {
		n++
	}
	if n == 0 {
		return
	}
	last := pt.order[n-1]
	clear(pt.order[:n])
	pt.order = pt.order[n:]
	p.c.MarkProcessed(last.rec)
}

// handle runs the handler on t's record with its retries, then writes it
// to the next retry topic or hands it to the policy,
// and reports whether the record is done. A record not done (Process
// stops first) is neither marked nor dropped from its partition's order,
// so nothing after it is committed.
func (p *processor[T]) handle(t *task[T]) bool {
	r := &t.rec
	var err error
	attempts := 0
	for {
		attempts++
		err = p.call(r)
		if err == nil {
			p.c.processed.Add(1)
			return true
		}
		if Permanent(err) || (p.c.retries != RetryForever && attempts > p.c.retries) {
			break
		}
		delay := p.c.retry.Delay(attempts - 1)
		p.c.retried.Add(1)
		p.c.log.Warn("handler failed; trying the record again", "topic", r.Topic, "partition", r.Partition,
			"offset", r.Offset, "attempt", attempts, "retry_in", delay, "error", err)
		if !p.sleep(delay) {
			return false
		}
	}
	from := p.c.origin(r.raw)
	attempts += from.Attempts
	if step, ok := p.c.nextStep(r.Topic); ok && !Permanent(err) {
		return p.forward(r, step, from, attempts, err)
	}
	he := &HandlerError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Attempts: attempts, Err: err}
	switch p.c.policy.mode {
	case skipInvalid:
		p.c.skipped.Add(1)
		if p.c.obs != nil {
			p.c.obs.OnSkip(r.Topic)
		}
		p.c.log.Warn("skipped a record the handler failed on", "topic", r.Topic, "partition", r.Partition,
			"offset", r.Offset, "attempts", attempts, "error", err)
		return true
	case deadLetter:
		return p.deadLetter(r, from, he)
	default:
		p.c.mu.Lock()
		if p.c.stopped == nil {
			p.c.stopped = he
		}
		p.c.mu.Unlock()
		p.fail(he)
		return false
	}
}

// call runs the handler, turning a panic into an error that is not tried
// again.
func (p *processor[T]) call(r *Record[T]) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = Reject(fmt.Errorf("handler panicked: %v", v))
		}
	}()
	return p.h(p.hctx, r)
}

// deadLetter writes r to the dead-letter topic, with from as its
// provenance, trying again with backoff until it is written or Process
// stops.
func (p *processor[T]) deadLetter(r *Record[T], from RetryInfo, he *HandlerError) bool {
	id, err := SchemaID(r.raw.Value)
	if err != nil {
		id = -1 // a tombstone
	}
	dl := deadLetterRecord(p.c.policy.topic, r.raw, from, StageHandle, id, he.Attempts, he.Err)
	if !p.write(r, dl, "dead letter") {
		return false
	}
	p.c.deadLettered.Add(1)
	if p.c.obs != nil {
		p.c.obs.OnDeadLetter(r.Topic)
	}
	p.c.log.Warn("dead-lettered a record the handler failed on", "topic", r.Topic, "partition", r.Partition,
		"offset", r.Offset, "attempts", he.Attempts, "dead_letter_topic", p.c.policy.topic, "error", he.Err)
	return true
}

// forward writes r to the retry topic of step, trying again with backoff
// until it is written or Process stops.
func (p *processor[T]) forward(r *Record[T], step RetryTopic, from RetryInfo, attempts int, cause error) bool {
	if !p.write(r, retryRecord(step.Topic, r.raw, from, attempts, cause), "retry record") {
		return false
	}
	p.c.deferred.Add(1)
	p.c.log.Warn("handler failed; the record goes to a retry topic", "topic", r.Topic, "partition", r.Partition,
		"offset", r.Offset, "attempts", attempts, "retry_topic", step.Topic, "delay", step.Delay, "error", cause)
	return true
}

// write produces out, written for r, trying again with backoff until it is
// written or Process stops.
func (p *processor[T]) write(r *Record[T], out *kgo.Record, what string) bool {
	for attempt := 0; ; attempt++ {
		err := p.c.cl.ProduceSync(p.hctx, out).FirstErr()
		if err == nil {
			return true
		}
		delay := p.c.retry.Delay(attempt)
		p.c.log.Warn(what+" not written; trying again", "topic", r.Topic, "partition", r.Partition,
			"offset", r.Offset, "to", out.Topic, "retry_in", delay, "error", err)
		if !p.sleep(delay) {
			return false
		}
	}
}

// sleep waits d, and reports false when Process gives up first: a
// failure, or a drain that timed out. Retries go on while Process drains.
func (p *processor[T]) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		p.mu.Lock()
		defer p.mu.Unlock()
		return !p.abort
	case <-p.hctx.Done():
		return false
	}
}

// onRevoke runs in the consumer's revoke and lost callbacks, before it
// commits. For revoked partitions, it waits until every record taken from
// them is done (up to the drain timeout), so that the commit that follows
// has them all and their next owner handles none again; the records of a
// lost partition, which cannot be committed, are dropped at once.
func (p *processor[T]) onRevoke(gone map[string][]int32, lost bool) {
	deadline := time.Now().Add(p.c.drainTimeout)
	timer := time.AfterFunc(p.c.drainTimeout, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	var tracks []*partTrack[T]
	for topic, parts := range gone {
		for _, part := range parts {
			if pt := p.parts[topicPartition{topic, part}]; pt != nil {
				tracks = append(tracks, pt)
			}
		}
	}
	busy := func() bool {
		for _, pt := range tracks {
			if len(pt.order) > 0 && (!lost || pt.inflight > 0) {
				return true
			}
		}
		return false
	}
	for !lost && !p.abort && busy() && time.Now().Before(deadline) {
		p.cond.Wait()
	}
	if !lost && busy() {
		p.c.log.Warn("partitions moved before their records were done; their next owner may handle some again",
			"partitions", gone, "drain_timeout", p.c.drainTimeout)
	}
	for _, pt := range tracks {
		pt.gone = true
	}
	for topic, parts := range gone {
		for _, part := range parts {
			delete(p.parts, topicPartition{topic, part})
		}
	}
}

// shutdown stops polling, lets the workers finish every record taken
// (up to the drain timeout, then drops the rest and cancels the handlers'
// context), commits what is done and returns why Process stopped.
func (p *processor[T]) shutdown() error {
	p.mu.Lock()
	p.stop, p.closed = true, true
	p.cond.Broadcast()
	p.idle.Broadcast()
	p.mu.Unlock()
	finished := make(chan struct{})
	go func() { p.workers.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(p.c.drainTimeout):
		p.c.log.Warn("records still being handled after the drain timeout; canceling their handlers", "drain_timeout", p.c.drainTimeout)
		p.mu.Lock()
		p.abort = true
		p.mu.Unlock()
		p.hcancel()
		<-finished
	}
	cctx, cancel := context.WithTimeout(context.Background(), p.c.drainTimeout)
	defer cancel()
	cerr := p.c.Commit(cctx)
	p.mu.Lock()
	failed := p.failed
	p.mu.Unlock()
	if failed != nil {
		return failed
	}
	if cerr != nil && !errors.Is(cerr, ErrClosed) {
		return fmt.Errorf("process: final %w", cerr)
	}
	return nil
}

// A dead letter's stage: where the record failed.
const (
	// StageDecode is a record that could not be decoded.
	StageDecode = "decode"
	// StageHandle is a record the handler of Process failed on.
	StageHandle = "handle"
)
