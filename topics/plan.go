package topics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamkit/streamkit/internal/configdiff"
	"github.com/streamkit/streamkit/internal/redact"
)

// Spec is one topic's desired state: topics as code.
type Spec struct {
	Name              string            `json:"name"`
	Partitions        int32             `json:"partitions"`
	ReplicationFactor int16             `json:"replication_factor"`
	Configs           map[string]string `json:"configs,omitempty"`
	// ResetUnlisted returns topic-level configs that are set on the topic
	// but not listed in Configs to their defaults. Off by default: a key
	// dropped from Configs is left as it is.
	ResetUnlisted bool `json:"reset_unlisted,omitempty"`
	// Classification is how sensitive the topic's data is, one of the
	// levels of the team's data policy (e.g. public, internal,
	// confidential, restricted). Plan and Apply ignore it; validate checks
	// it, and the CLI applies the topic to a cluster that may hold it.
	Classification string `json:"classification,omitempty"`
	// Cluster names the Kafka cluster the topic lives on, one of the team
	// file's; empty lets the classification choose. Plan and Apply ignore
	// it: a Client is one cluster's.
	Cluster string `json:"cluster,omitempty"`
}

// PlanOptions scope a plan.
type PlanOptions struct {
	// Namespace is the topic-name prefix the plan owns. Every desired
	// topic must be inside it; only topics inside it are ever deleted.
	// Required.
	Namespace string
	// Prune deletes topics in the namespace that are not desired.
	Prune bool
	// RecentWrites is how recent a write must be for a pruned topic to
	// count as in use: the default is 7 days.
	RecentWrites time.Duration
}

// Action is what a plan does to one topic.
type Action string

// The actions.
const (
	Create    Action = "create"
	Update    Action = "update"
	Delete    Action = "delete"
	Unchanged Action = "unchanged"
	// Refused marks a change Kafka cannot make (fewer partitions, a lower
	// replication factor). Apply refuses a plan that holds one.
	Refused Action = "refused"
)

// ConfigChange is one topic config that differs. Old or New is nil when the
// key is not set at the topic level on that side (New nil: reset to the
// default).
type ConfigChange struct {
	Key string  `json:"key"`
	Old *string `json:"old,omitempty"`
	New *string `json:"new,omitempty"`
}

// Change is what a plan does to one topic.
type Change struct {
	Action Action `json:"action"`
	Topic  string `json:"topic"`
	// Partitions and ReplicationFactor are [from, to] when they change.
	Partitions        *[2]int32      `json:"partitions,omitempty"`
	ReplicationFactor *[2]int16      `json:"replication_factor,omitempty"`
	Configs           []ConfigChange `json:"configs,omitempty"`
	// Reason explains a refusal.
	Reason string `json:"reason,omitempty"`
	// Danger says why deleting this topic may hurt: recent writes or
	// consumer groups reading it. Apply deletes it only with Force.
	Danger string `json:"danger,omitempty"`

	spec     *Spec
	replicas map[int32][]int32 // current assignment, for a replication increase
}

// Plan is the difference between desired topics and the cluster. It prints
// as a readable diff (String) and as JSON.
type Plan struct {
	Namespace string   `json:"namespace"`
	Prune     bool     `json:"prune"`
	Changes   []Change `json:"changes"`
	brokers   []int32
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool {
	for _, c := range p.Changes {
		if c.Action != Unchanged {
			return false
		}
	}
	return true
}

// Refusals returns the changes Kafka cannot make.
func (p *Plan) Refusals() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Action == Refused {
			out = append(out, c)
		}
	}
	return out
}

// Count returns how many topics the plan creates, updates, deletes, leaves
// unchanged and refuses.
func (p *Plan) Count() (create, update, del, unchanged, refused int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			create++
		case Update:
			update++
		case Delete:
			del++
		case Refused:
			refused++
		default:
			unchanged++
		}
	}
	return
}

// Plan compares desired with the cluster and changes nothing. It makes the
// same three requests whatever the number of topics: one metadata request
// for all topics, one DescribeConfigs for the desired topics that exist,
// and, only when it prunes, one ListOffsets (newest record times) plus the
// group requests that find readers of the topics to delete.
//
// Configs are compared with the topic's dynamic (topic-level) configs
// only, so broker defaults never show as drift.
func (c *Client) Plan(ctx context.Context, desired []Spec, opts PlanOptions) (_ *Plan, err error) {
	ctx, done := c.guard(ctx)
	defer done(&err)
	if err := validateSpecs(desired, opts); err != nil {
		return nil, err
	}
	if opts.RecentWrites == 0 {
		opts.RecentWrites = 7 * 24 * time.Hour
	}
	md, err := c.metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan: metadata: %w", err)
	}
	p := &Plan{Namespace: opts.Namespace, Prune: opts.Prune, brokers: md.Brokers.NodeIDs()}
	sort.Slice(p.brokers, func(i, j int) bool { return p.brokers[i] < p.brokers[j] })

	var existing []string
	for _, s := range desired {
		if td, ok := md.Topics[s.Name]; ok && td.Err == nil {
			existing = append(existing, s.Name)
		}
	}
	dynamic := map[string]map[string]string{}
	if len(existing) > 0 {
		rcs, err := c.adm.DescribeTopicConfigs(ctx, existing...)
		if err != nil {
			return nil, fmt.Errorf("plan: describe topic configs: %w", err)
		}
		for _, rc := range rcs {
			if rc.Err != nil {
				return nil, fmt.Errorf("plan: describe configs of %s: %w", rc.Name, rc.Err)
			}
			m := map[string]string{}
			for _, cfg := range rc.Configs {
				if cfg.Source == kmsg.ConfigSourceDynamicTopicConfig && cfg.Value != nil {
					m[cfg.Key] = *cfg.Value
				}
			}
			dynamic[rc.Name] = m
		}
	}

	want := map[string]bool{}
	for i := range desired {
		s := &desired[i]
		want[s.Name] = true
		td, ok := md.Topics[s.Name]
		if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
			ch := Change{Action: Create, Topic: s.Name, spec: s,
				Partitions: &[2]int32{0, s.Partitions}, ReplicationFactor: &[2]int16{0, s.ReplicationFactor}}
			ch.Configs = configChanges(nil, s.Configs, false)
			p.Changes = append(p.Changes, ch)
			continue
		}
		if td.Err != nil {
			return nil, fmt.Errorf("plan: metadata of %s: %w", s.Name, td.Err)
		}
		p.Changes = append(p.Changes, diffTopic(s, td, dynamic[s.Name], len(p.brokers)))
	}
	if opts.Prune {
		var doomed []string
		for name, td := range md.Topics {
			if strings.HasPrefix(name, opts.Namespace) && !want[name] && !td.IsInternal {
				doomed = append(doomed, name)
			}
		}
		if len(doomed) > 0 {
			dangers, err := c.deletionDangers(ctx, doomed, opts.RecentWrites)
			if err != nil {
				return nil, fmt.Errorf("plan: %w", err)
			}
			for _, name := range doomed {
				p.Changes = append(p.Changes, Change{Action: Delete, Topic: name, Danger: dangers[name]})
			}
		}
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Topic < p.Changes[j].Topic })
	return p, nil
}

func validateSpecs(desired []Spec, opts PlanOptions) error {
	if opts.Namespace == "" {
		return errors.New("plan: empty namespace: a plan must own a topic-name prefix")
	}
	var errs []error
	seen := map[string]bool{}
	for i, s := range desired {
		switch {
		case s.Name == "":
			errs = append(errs, fmt.Errorf("topic %d: empty name", i))
			continue
		case seen[s.Name]:
			errs = append(errs, fmt.Errorf("topic %q: defined twice", s.Name))
		case !strings.HasPrefix(s.Name, opts.Namespace):
			errs = append(errs, fmt.Errorf("topic %q: %w %q", s.Name, ErrOutsideNamespace, opts.Namespace))
		}
		seen[s.Name] = true
		if s.Partitions < 1 {
			errs = append(errs, fmt.Errorf("topic %q: %d partitions, want at least 1", s.Name, s.Partitions))
		}
		if s.ReplicationFactor < 1 {
			errs = append(errs, fmt.Errorf("topic %q: replication factor %d, want at least 1", s.Name, s.ReplicationFactor))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("plan: %w", errors.Join(errs...))
	}
	return nil
}

func diffTopic(s *Spec, td kadm.TopicDetail, dynamic map[string]string, brokers int) Change {
	ch := Change{Action: Unchanged, Topic: s.Name, spec: s}
	var reasons []string
	partitions := int32(len(td.Partitions))
	switch {
	case s.Partitions > partitions:
		ch.Partitions = &[2]int32{partitions, s.Partitions}
	case s.Partitions < partitions:
		reasons = append(reasons, fmt.Sprintf(
			"partitions %d -> %d: Kafka cannot remove partitions; create a new topic with fewer partitions and move the consumers to it",
			partitions, s.Partitions))
	}
	rf := int16(0)
	ch.replicas = map[int32][]int32{}
	for _, pd := range td.Partitions {
		if n := int16(len(pd.Replicas)); n > rf {
			rf = n
		}
		ch.replicas[pd.Partition] = pd.Replicas
	}
	switch {
	case s.ReplicationFactor > rf && int(s.ReplicationFactor) > brokers:
		reasons = append(reasons, fmt.Sprintf("replication factor %d -> %d: the cluster has only %d brokers", rf, s.ReplicationFactor, brokers))
	case s.ReplicationFactor > rf:
		ch.ReplicationFactor = &[2]int16{rf, s.ReplicationFactor}
	case s.ReplicationFactor < rf:
		reasons = append(reasons, fmt.Sprintf(
			"replication factor %d -> %d: lowering it is refused; it gives up durability and is not done as code",
			rf, s.ReplicationFactor))
	}
	ch.Configs = configChanges(dynamic, s.Configs, s.ResetUnlisted)
	switch {
	case len(reasons) > 0:
		ch.Action, ch.Reason = Refused, strings.Join(reasons, "; ")
	case ch.Partitions != nil || ch.ReplicationFactor != nil || len(ch.Configs) > 0:
		ch.Action = Update
	}
	return ch
}

func configChanges(current, desired map[string]string, resetUnlisted bool) []ConfigChange {
	var out []ConfigChange
	for _, e := range configdiff.Diff(current, desired, resetUnlisted) {
		out = append(out, ConfigChange(e))
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// deletionDangers finds, for topics about to be deleted, recent writes (a
// newest record younger than recent) and consumer groups with committed
// offsets on them.
func (c *Client) deletionDangers(ctx context.Context, topics []string, recent time.Duration) (map[string]string, error) {
	reasons := map[string][]string{}
	newest, failed, err := c.newestRecords(ctx, topics)
	if err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		var errs []error
		for _, t := range slices.Sorted(maps.Keys(failed)) {
			errs = append(errs, failed[t])
		}
		return nil, errors.Join(errs...)
	}
	cutoff := c.now().Add(-recent)
	for t, ts := range newest {
		if !ts.IsZero() && ts.After(cutoff) {
			reasons[t] = append(reasons[t], fmt.Sprintf("last write %s ago", c.now().Sub(ts).Round(time.Second)))
		}
	}
	readers, err := c.groupsReading(ctx, topics)
	if err != nil {
		return nil, err
	}
	for t, groups := range readers {
		reasons[t] = append(reasons[t], "read by consumer groups "+strings.Join(groups, ", "))
	}
	out := map[string]string{}
	for t, r := range reasons {
		out[t] = strings.Join(r, "; ")
	}
	return out, nil
}

// groupsReading returns, per topic, the groups with committed offsets on
// it. Unlike the housekeeping report, it fails on any problem: a prune
// must not go ahead on a partial view of who reads.
func (c *Client) groupsReading(ctx context.Context, topics []string) (map[string][]string, error) {
	_, fetched, problems, err := c.groupOffsets(ctx)
	if err == nil {
		err = errors.Join(problems...)
	}
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, r := range fetched {
		for _, t := range topics {
			if _, ok := r.Fetched[t]; ok {
				out[t] = append(out[t], r.Group)
			}
		}
	}
	for t := range out {
		sort.Strings(out[t])
	}
	return out, nil
}

// String renders the plan as a diff for review.
func (p *Plan) String() string {
	var b strings.Builder
	prune := "off"
	if p.Prune {
		prune = "on"
	}
	fmt.Fprintf(&b, "topics plan for namespace %q (prune %s)\n", p.Namespace, prune)
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			fmt.Fprintf(&b, "+ create %s (%d partitions, replication factor %d)\n", c.Topic, c.Partitions[1], c.ReplicationFactor[1])
		case Update:
			fmt.Fprintf(&b, "~ update %s\n", c.Topic)
			if c.Partitions != nil {
				fmt.Fprintf(&b, "    partitions: %d -> %d\n", c.Partitions[0], c.Partitions[1])
			}
			if c.ReplicationFactor != nil {
				fmt.Fprintf(&b, "    replication factor: %d -> %d (reassignment)\n", c.ReplicationFactor[0], c.ReplicationFactor[1])
			}
		case Delete:
			fmt.Fprintf(&b, "- delete %s\n", c.Topic)
			if c.Danger != "" {
				fmt.Fprintf(&b, "    ! dangerous: %s (needs Force)\n", c.Danger)
			}
		case Refused:
			fmt.Fprintf(&b, "! refused %s: %s\n", c.Topic, c.Reason)
		default:
			continue
		}
		if c.Action == Delete {
			continue
		}
		for _, k := range c.Configs {
			switch {
			case k.Old == nil:
				fmt.Fprintf(&b, "    + %s = %q\n", k.Key, redact.Value(k.Key, *k.New))
			case k.New == nil:
				fmt.Fprintf(&b, "    - %s = %q (back to the default)\n", k.Key, redact.Value(k.Key, *k.Old))
			default:
				fmt.Fprintf(&b, "    ~ %s: %q -> %q\n", k.Key, redact.Value(k.Key, *k.Old), redact.Value(k.Key, *k.New))
			}
		}
	}
	cr, up, del, same, ref := p.Count()
	fmt.Fprintf(&b, "%d to create, %d to update, %d to delete, %d unchanged, %d refused\n", cr, up, del, same, ref)
	return b.String()
}

// MarshalJSON renders the plan for CI.
func (p *Plan) MarshalJSON() ([]byte, error) {
	type plain Plan
	changes := make([]Change, len(p.Changes))
	for i, c := range p.Changes {
		c.Configs = append([]ConfigChange(nil), c.Configs...)
		for j, k := range c.Configs {
			if k.Old != nil {
				c.Configs[j].Old = ptr(redact.Value(k.Key, *k.Old))
			}
			if k.New != nil {
				c.Configs[j].New = ptr(redact.Value(k.Key, *k.New))
			}
		}
		changes[i] = c
	}
	cr, up, del, same, ref := p.Count()
	return json.Marshal(struct {
		plain
		Changes []Change       `json:"changes"`
		Summary map[string]int `json:"summary"`
	}{plain(*p), changes, map[string]int{"create": cr, "update": up, "delete": del, "unchanged": same, "refused": ref}})
}

// metadata asks a broker for fresh metadata of the topics (all when none
// are named). kadm's Metadata may answer from the client's cache, which
// can miss a topic created a moment ago; a plan must see the cluster as
// it is.
func (c *Client) metadata(ctx context.Context, topics ...string) (kadm.Metadata, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, c.cl)
	if err != nil {
		return kadm.Metadata{}, err
	}
	md := kadm.Metadata{Topics: kadm.TopicDetails{}}
	for _, b := range resp.Brokers {
		md.Brokers = append(md.Brokers, kadm.BrokerDetail{NodeID: b.NodeID, Host: b.Host, Port: b.Port, Rack: b.Rack})
	}
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		td := kadm.TopicDetail{Topic: *t.Topic, IsInternal: t.IsInternal, Err: kerr.ErrorForCode(t.ErrorCode), Partitions: kadm.PartitionDetails{}}
		if err := td.Err; errors.Is(err, kerr.TopicAuthorizationFailed) {
			return kadm.Metadata{}, fmt.Errorf("metadata of %s: %w", td.Topic, err)
		}
		for _, p := range t.Partitions {
			td.Partitions[p.Partition] = kadm.PartitionDetail{
				Topic: td.Topic, Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
				Replicas: p.Replicas, ISR: p.ISR, OfflineReplicas: p.OfflineReplicas, Err: kerr.ErrorForCode(p.ErrorCode),
			}
		}
		md.Topics[td.Topic] = td
	}
	return md, nil
}
