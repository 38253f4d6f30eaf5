package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/internal/runloop"
)

// AlertInstance is one subject for which a rule's condition holds in one
// snapshot.
type AlertInstance struct {
	// Subject names what the alert is about, e.g. "group g1",
	// "connector x", "topic t", "broker 1".
	Subject string
	// Value is the measured value, e.g. the lag in records.
	Value float64
	// Message is a one-line human description.
	Message string
}

// AlertRule is a condition over a Snapshot and the lag statuses of the
// same cycle. Eval returns one AlertInstance per subject for which the
// condition holds; an instance must keep holding for For, measured with
// Snapshot.Time, before it fires. Eval is called from Evaluate and must be
// fast; a panic in it is recovered, logged, and skips the rule for that
// cycle without changing its state.
//
// The constructors below fill Name with a default that includes their
// threshold; set Name (and For) on the returned value to override it.
type AlertRule struct {
	Name string
	For  time.Duration
	Eval func(Snapshot, map[string]LagStatus) []AlertInstance
}

// LagRecordsAbove holds for each group whose total lag exceeds n records.
func LagRecordsAbove(n int64, forDur time.Duration) AlertRule {
	return AlertRule{
		Name: fmt.Sprintf("lag_records_above_%d", n),
		For:  forDur,
		Eval: func(s Snapshot, _ map[string]LagStatus) []AlertInstance {
			var out []AlertInstance
			for _, g := range s.Groups {
				if g.Lag > n {
					out = append(out, AlertInstance{
						Subject: "group " + g.Group,
						Value:   float64(g.Lag),
						Message: fmt.Sprintf("group %s lags %d records, above %d", g.Group, g.Lag, n),
					})
				}
			}
			return out
		},
	}
}

// LagSecondsAbove holds for each group whose oldest unconsumed record is
// older than secs seconds (GroupSnapshot.LagSeconds).
func LagSecondsAbove(secs float64, forDur time.Duration) AlertRule {
	return AlertRule{
		Name: fmt.Sprintf("lag_seconds_above_%g", secs),
		For:  forDur,
		Eval: func(s Snapshot, _ map[string]LagStatus) []AlertInstance {
			var out []AlertInstance
			for _, g := range s.Groups {
				if g.LagSeconds > secs {
					out = append(out, AlertInstance{
						Subject: "group " + g.Group,
						Value:   g.LagSeconds,
						Message: fmt.Sprintf("group %s lags %.1fs, above %gs", g.Group, g.LagSeconds, secs),
					})
				}
			}
			return out
		},
	}
}

// LagStatusIs holds for each group whose lag status (from a LagEvaluator)
// is one of statuses. The instance's Value is the numeric status.
func LagStatusIs(forDur time.Duration, statuses ...LagStatus) AlertRule {
	names := make([]string, len(statuses))
	for i, st := range statuses {
		names[i] = st.String()
	}
	set := slices.Clone(statuses)
	return AlertRule{
		Name: "lag_status_" + strings.Join(names, "_"),
		For:  forDur,
		Eval: func(_ Snapshot, st map[string]LagStatus) []AlertInstance {
			var out []AlertInstance
			for group, v := range st {
				if slices.Contains(set, v) {
					out = append(out, AlertInstance{
						Subject: "group " + group,
						Value:   float64(v),
						Message: fmt.Sprintf("group %s lag status is %s", group, v),
					})
				}
			}
			return out
		},
	}
}

// ConnectorFailed holds for each connector whose state is FAILED or that
// has a failed task. The instance's Value is the number of failed tasks.
func ConnectorFailed() AlertRule {
	return AlertRule{
		Name: "connector_failed",
		Eval: func(s Snapshot, _ map[string]LagStatus) []AlertInstance {
			var out []AlertInstance
			for _, c := range s.Connectors {
				if !strings.EqualFold(c.State, "FAILED") && c.FailedTasks == 0 {
					continue
				}
				msg := fmt.Sprintf("connector %s is %s with %d of %d tasks failed", c.Name, c.State, c.FailedTasks, c.Tasks)
				if line, _, _ := strings.Cut(strings.TrimSpace(c.Trace), "\n"); line != "" {
					msg += ": " + line
				}
				out = append(out, AlertInstance{
					Subject: "connector " + c.Name,
					Value:   float64(c.FailedTasks),
					Message: msg,
				})
			}
			return out
		},
	}
}

// UnderReplicated holds for each topic with under-replicated or offline
// partitions. The instance's Value is the number of under-replicated
// partitions.
func UnderReplicated() AlertRule {
	return AlertRule{
		Name: "under_replicated",
		Eval: func(s Snapshot, _ map[string]LagStatus) []AlertInstance {
			var out []AlertInstance
			for _, t := range s.Topics {
				if t.UnderReplicated > 0 || t.Offline > 0 {
					out = append(out, AlertInstance{
						Subject: "topic " + t.Topic,
						Value:   float64(t.UnderReplicated),
						Message: fmt.Sprintf("topic %s has %d under-replicated and %d offline of %d partitions", t.Topic, t.UnderReplicated, t.Offline, t.Partitions),
					})
				}
			}
			return out
		},
	}
}

// BrokerStorageAbove holds for each broker storing more than n bytes.
func BrokerStorageAbove(n int64) AlertRule {
	return AlertRule{
		Name: fmt.Sprintf("broker_storage_above_%d", n),
		Eval: func(s Snapshot, _ map[string]LagStatus) []AlertInstance {
			var out []AlertInstance
			for _, b := range s.Brokers {
				if b.Bytes > n {
					out = append(out, AlertInstance{
						Subject: fmt.Sprintf("broker %d", b.Broker),
						Value:   float64(b.Bytes),
						Message: fmt.Sprintf("broker %d stores %d bytes, above %d", b.Broker, b.Bytes, n),
					})
				}
			}
			return out
		},
	}
}

// AlertState is an AlertEvent's state.
type AlertState string

const (
	// AlertFiring: the rule's condition has held for its For.
	AlertFiring AlertState = "firing"
	// AlertResolved: a firing condition stopped holding.
	AlertResolved AlertState = "resolved"
)

// AlertEvent is a transition of one (rule, subject) pair. Pending
// conditions produce no events.
type AlertEvent struct {
	Time    time.Time  `json:"time"`
	Rule    string     `json:"rule"`
	Subject string     `json:"subject"`
	State   AlertState `json:"state"`
	Value   float64    `json:"value"`
	Message string     `json:"message"`
}

type alerterOptFunc func(*alerterConfig)

func (f alerterOptFunc) applyAlerter(c *alerterConfig) { f(c) }

type alerterConfig struct {
	onEvent  []func(AlertEvent)
	logger   *slog.Logger
	client   *kgo.Client
	topic    string
	kafkaSet bool
	errs     []error
}

func defaultAlerterConfig() alerterConfig {
	return alerterConfig{logger: slog.New(slog.DiscardHandler)}
}

// WithEvents adds a callback called with every event, in order, from
// Evaluate. By default there is none; the option may be given more than
// once. fn must be safe for concurrent use and fast: it runs inside
// Evaluate. A panic in fn is recovered and logged.
func WithEvents(fn func(AlertEvent)) AlerterOpt {
	return alerterOptFunc(func(c *alerterConfig) {
		if fn == nil {
			c.errs = append(c.errs, errors.New("nil event callback"))
			return
		}
		c.onEvent = append(c.onEvent, fn)
	})
}

// WithEventTopic also produces every event to topic through cl as a JSON
// AlertEvent, keyed by "rule/subject" so one alert's events stay ordered in
// one partition. By default events are not produced. Records are handed to
// cl with TryProduce, so Evaluate never waits for Kafka: a full buffer or
// a failed produce is logged at error and the event is dropped from the
// sink (never from the return value or the callbacks). Flushing and
// closing cl remain the caller's.
func WithEventTopic(cl *kgo.Client, topic string) AlerterOpt {
	return alerterOptFunc(func(c *alerterConfig) {
		c.kafkaSet = true
		c.client, c.topic = cl, topic
	})
}

type alertKey struct{ rule, subject string }

type alertState struct {
	since  time.Time // first snapshot in which the condition held
	firing bool
	last   AlertInstance
}

// Alerter tracks the pending and firing state of each (rule, subject)
// pair across Evaluate calls and reports the transitions as AlertEvents.
//
// An Alerter is safe for concurrent use by multiple goroutines; Evaluate
// calls are serialized and must be given snapshots in time order.
type Alerter struct {
	rules []AlertRule
	cfg   alerterConfig

	mu     sync.Mutex
	states map[alertKey]*alertState
}

// NewAlerter returns an Alerter for rules. It validates every rule and
// option together and starts no goroutines.
func NewAlerter(rules []AlertRule, opts ...AlerterOpt) (*Alerter, error) {
	cfg := defaultAlerterConfig()
	for _, o := range opts {
		if o != nil {
			o.applyAlerter(&cfg)
		}
	}
	errs := slices.Clone(cfg.errs)
	if cfg.kafkaSet {
		if cfg.client == nil {
			errs = append(errs, errors.New("nil kafka client"))
		}
		if strings.TrimSpace(cfg.topic) == "" {
			errs = append(errs, errors.New("empty kafka topic"))
		}
	}
	names := make(map[string]bool, len(rules))
	for i, r := range rules {
		switch {
		case r.Name == "":
			errs = append(errs, fmt.Errorf("rule %d: empty name", i))
		case names[r.Name]:
			errs = append(errs, fmt.Errorf("rule %q: duplicate name", r.Name))
		}
		names[r.Name] = true
		if r.Eval == nil {
			errs = append(errs, fmt.Errorf("rule %q: nil eval", r.Name))
		}
		if r.For < 0 {
			errs = append(errs, fmt.Errorf("rule %q: negative for %v", r.Name, r.For))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidAlerter, errors.Join(errs...))
	}
	return &Alerter{
		rules:  slices.Clone(rules),
		cfg:    cfg,
		states: make(map[alertKey]*alertState),
	}, nil
}

// Evaluate runs every rule over s and statuses (the LagEvaluator result
// for s; nil when unused) and returns the transitions, in rule order and
// then by subject: "firing" once an instance has held for its rule's For
// (at once when For is 0), "resolved" once a firing instance no longer
// holds. An instance that stops holding before it fires is forgotten
// silently. Events are also logged, passed to the callbacks and produced
// to the Kafka sink, if configured, before Evaluate returns.
func (a *Alerter) Evaluate(s Snapshot, statuses map[string]LagStatus) []AlertEvent {
	a.mu.Lock()
	defer a.mu.Unlock()

	var events []AlertEvent
	for _, r := range a.rules {
		insts, ok := a.evalRule(r, s, statuses)
		if !ok {
			continue
		}
		current := make(map[string]AlertInstance, len(insts))
		for _, in := range insts {
			current[in.Subject] = in
		}
		subjects := make([]string, 0, len(current))
		for sub := range current {
			subjects = append(subjects, sub)
		}
		sort.Strings(subjects)

		var ruleEvents []AlertEvent
		for _, sub := range subjects {
			in := current[sub]
			k := alertKey{rule: r.Name, subject: sub}
			st := a.states[k]
			if st == nil {
				st = &alertState{since: s.Time}
				a.states[k] = st
			}
			st.last = in
			if !st.firing && s.Time.Sub(st.since) >= r.For {
				st.firing = true
				ruleEvents = append(ruleEvents, AlertEvent{
					Time: s.Time, Rule: r.Name, Subject: sub, State: AlertFiring,
					Value: in.Value, Message: in.Message,
				})
			}
		}
		for k, st := range a.states {
			if k.rule != r.Name {
				continue
			}
			if _, ok := current[k.subject]; ok {
				continue
			}
			delete(a.states, k)
			if st.firing {
				ruleEvents = append(ruleEvents, AlertEvent{
					Time: s.Time, Rule: r.Name, Subject: k.subject, State: AlertResolved,
					Value: st.last.Value, Message: "resolved: " + st.last.Message,
				})
			}
		}
		sort.SliceStable(ruleEvents, func(i, j int) bool { return ruleEvents[i].Subject < ruleEvents[j].Subject })
		events = append(events, ruleEvents...)
	}
	for _, ev := range events {
		a.deliver(ev)
	}
	return events
}

// evalRule calls r.Eval, turning a panic into a logged skip.
func (a *Alerter) evalRule(r AlertRule, s Snapshot, statuses map[string]LagStatus) (insts []AlertInstance, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			a.cfg.logger.Error("alert rule panicked", "rule", r.Name, "panic", fmt.Sprint(p))
			insts, ok = nil, false
		}
	}()
	return r.Eval(s, statuses), true
}

func (a *Alerter) deliver(ev AlertEvent) {
	attrs := []any{"rule", ev.Rule, "subject", ev.Subject, "value", ev.Value, "message", ev.Message, "time", ev.Time}
	if ev.State == AlertFiring {
		a.cfg.logger.Warn("alert firing", attrs...)
	} else {
		a.cfg.logger.Info("alert resolved", attrs...)
	}
	for _, fn := range a.cfg.onEvent {
		a.callOnEvent(fn, ev)
	}
	if a.cfg.client != nil {
		a.produce(ev)
	}
}

func (a *Alerter) callOnEvent(fn func(AlertEvent), ev AlertEvent) {
	runloop.Call(a.cfg.logger, "alert event function for "+ev.Rule+" "+ev.Subject, func() { fn(ev) })
}

func (a *Alerter) produce(ev AlertEvent) {
	val, err := json.Marshal(ev)
	if err != nil { // only a non-finite Value can fail
		a.cfg.logger.Error("encode alert event", "rule", ev.Rule, "subject", ev.Subject, "err", err)
		return
	}
	rec := &kgo.Record{Topic: a.cfg.topic, Key: []byte(ev.Rule + "/" + ev.Subject), Value: val}
	// TryProduce never blocks; the record outlives Evaluate, hence no
	// caller context.
	a.cfg.client.TryProduce(context.Background(), rec, func(r *kgo.Record, err error) {
		if err != nil {
			a.cfg.logger.Error("produce alert event", "topic", r.Topic, "key", string(r.Key), "err", err)
		}
	})
}
