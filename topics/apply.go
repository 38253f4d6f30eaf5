package topics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/streamkit/streamkit/internal/backoff"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Force deletes topics the plan marks dangerous (recent writes or
	// consumer groups). Off by default.
	Force bool
	// Wait bounds the wait for partition reassignments to finish: 0 means
	// the default 5 minutes.
	Wait time.Duration
	// PollInterval is the pause between reassignment checks: 0 means the
	// default 500ms.
	PollInterval time.Duration
}

// ApplyResult says what Apply did.
type ApplyResult struct {
	Created, Updated, Deleted []string
}

// Apply carries out a plan. It refuses, before changing anything, a plan
// with a Refused change (ErrRefused) or, without opts.Force, a dangerous
// delete (ErrDangerousDelete). Then it creates topics with their configs,
// grows partitions, alters only the drifted configs (incrementally:
// set or delete per key), raises replication factors by partition
// reassignment and waits for it to finish, and deletes pruned topics.
//
// Apply is idempotent: a topic that already exists, or one already gone,
// is not an error, and applying the same plan again changes nothing more.
func (c *Client) Apply(ctx context.Context, p *Plan, opts ApplyOptions) (_ *ApplyResult, err error) {
	ctx, done := c.guard(ctx)
	defer done(&err)
	if opts.Wait == 0 {
		opts.Wait = 5 * time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 500 * time.Millisecond
	}
	var refusals []error
	for _, ch := range p.Changes {
		switch {
		case ch.Action == Refused:
			refusals = append(refusals, fmt.Errorf("%w: %s: %s", ErrRefused, ch.Topic, ch.Reason))
		case ch.Action == Delete && ch.Danger != "" && !opts.Force:
			refusals = append(refusals, fmt.Errorf("%w: %s: %s", ErrDangerousDelete, ch.Topic, ch.Danger))
		}
	}
	if len(refusals) > 0 {
		return nil, fmt.Errorf("apply: %w", errors.Join(refusals...))
	}

	res := &ApplyResult{}
	var errs []error
	var creates []*Change
	for i := range p.Changes {
		if p.Changes[i].Action == Create {
			creates = append(creates, &p.Changes[i])
		}
	}
	if len(creates) > 0 {
		created, err := c.createAll(ctx, creates)
		res.Created = created
		if err != nil {
			errs = append(errs, err)
		}
		if err := c.waitTopicsReady(ctx, created, opts); err != nil {
			errs = append(errs, err)
		}
	}
	var reassigned []*Change
	var deletes []*Change
	for i := range p.Changes {
		ch := &p.Changes[i]
		var err error
		switch ch.Action {
		case Update:
			var moved bool
			if moved, err = c.update(ctx, ch, p.brokers); err == nil {
				res.Updated = append(res.Updated, ch.Topic)
				if moved {
					reassigned = append(reassigned, ch)
				}
				c.log.Info("updated topic", "topic", ch.Topic, "configs", len(ch.Configs))
			}
		case Delete:
			deletes = append(deletes, ch)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", ch.Action, ch.Topic, err))
		}
	}
	if len(deletes) > 0 {
		deleted, err := c.deleteAll(ctx, deletes)
		res.Deleted = deleted
		if err != nil {
			errs = append(errs, err)
		}
		if err := c.waitTopicsGone(ctx, deleted, opts); err != nil {
			errs = append(errs, err)
		}
	}
	if len(reassigned) > 0 {
		if err := c.waitReassignments(ctx, reassigned, opts); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("apply: %w", errors.Join(errs...))
	}
	return res, nil
}

// createAll creates topics with their configs in one CreateTopics request
// (the client splits it by controller if it must). A topic that exists
// already counts as created.
func (c *Client) createAll(ctx context.Context, creates []*Change) ([]string, error) {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 60_000
	for _, ch := range creates {
		s := ch.spec
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = s.Name, s.Partitions, s.ReplicationFactor
		for _, k := range slices.Sorted(maps.Keys(s.Configs)) {
			rc := kmsg.NewCreateTopicsRequestTopicConfig()
			rc.Name, rc.Value = k, ptr(s.Configs[k])
			rt.Configs = append(rt.Configs, rc)
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, c.cl)
	if err != nil {
		return nil, fmt.Errorf("create topics: %w", err)
	}
	var created []string
	var errs []error
	for _, rt := range resp.Topics {
		err := kerr.ErrorForCode(rt.ErrorCode)
		switch {
		case err == nil || errors.Is(err, kerr.TopicAlreadyExists):
			created = append(created, rt.Topic)
			c.log.Info("created topic", "topic", rt.Topic, "partitions", rt.NumPartitions, "replication_factor", rt.ReplicationFactor)
		case rt.ErrorMessage != nil:
			errs = append(errs, fmt.Errorf("create %s: %w: %s", rt.Topic, err, *rt.ErrorMessage))
		default:
			errs = append(errs, fmt.Errorf("create %s: %w", rt.Topic, err))
		}
	}
	sort.Strings(created)
	return created, errors.Join(errs...)
}

func (c *Client) update(ctx context.Context, ch *Change, brokers []int32) (reassigning bool, err error) {
	if ch.Partitions != nil {
		resps, err := c.adm.UpdatePartitions(ctx, int(ch.Partitions[1]), ch.Topic)
		if err == nil {
			err = resps.Error()
		}
		// Already grown by an earlier, interrupted apply.
		if err != nil && !errors.Is(err, kerr.InvalidPartitions) {
			return false, fmt.Errorf("grow partitions: %w", err)
		}
		want := int(ch.Partitions[1])
		if err := c.waitEveryBroker(ctx, ApplyOptions{Wait: time.Minute, PollInterval: 500 * time.Millisecond}, "new partitions",
			func(md *kmsg.MetadataResponse) bool {
				for _, t := range md.Topics {
					if t.Topic != nil && *t.Topic == ch.Topic && len(t.Partitions) >= want {
						return true
					}
				}
				return false
			}, ch.Topic); err != nil {
			return false, err
		}
	}
	if len(ch.Configs) > 0 {
		alters := make([]kadm.AlterConfig, 0, len(ch.Configs))
		for _, k := range ch.Configs {
			if k.New == nil {
				alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k.Key})
			} else {
				alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k.Key, Value: k.New})
			}
		}
		resps, err := c.adm.AlterTopicConfigs(ctx, alters, ch.Topic)
		if err == nil {
			for _, r := range resps {
				if r.Err != nil {
					err = fmt.Errorf("%w: %s", r.Err, r.ErrMessage)
				}
			}
		}
		if err != nil {
			return false, fmt.Errorf("alter configs: %w", err)
		}
		if err := c.waitConfigs(ctx, ch); err != nil {
			return false, err
		}
	}
	if ch.ReplicationFactor != nil {
		req := assignmentsFor(ch, brokers)
		resps, err := c.adm.AlterPartitionAssignments(ctx, req)
		if err == nil {
			err = resps.Error()
		}
		if err != nil {
			return false, fmt.Errorf("reassign partitions: %w", err)
		}
		return true, nil
	}
	return false, nil
}

// assignmentsFor adds replicas to every partition up to the desired
// replication factor, keeping the current replicas (and so the leader) in
// place and picking the brokers that hold the fewest of this topic's
// replicas, so the new replicas spread evenly.
func assignmentsFor(ch *Change, brokers []int32) kadm.AlterPartitionAssignmentsReq {
	load := map[int32]int{}
	for _, b := range brokers {
		load[b] = 0
	}
	for _, rs := range ch.replicas {
		for _, b := range rs {
			load[b]++
		}
	}
	partitions := make([]int32, 0, len(ch.replicas))
	for p := range ch.replicas {
		partitions = append(partitions, p)
	}
	sort.Slice(partitions, func(i, j int) bool { return partitions[i] < partitions[j] })
	var req kadm.AlterPartitionAssignmentsReq
	want := int(ch.ReplicationFactor[1])
	for _, p := range partitions {
		replicas := append([]int32(nil), ch.replicas[p]...)
		for len(replicas) < want {
			best := int32(-1)
			for _, b := range brokers {
				if contains(replicas, b) {
					continue
				}
				if best < 0 || load[b] < load[best] {
					best = b
				}
			}
			if best < 0 {
				break
			}
			replicas = append(replicas, best)
			load[best]++
		}
		req.Assign(ch.Topic, p, replicas)
	}
	return req
}

func contains(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// waitReassignments waits until no reassignment of the topics is in
// progress and every partition has the desired number of replicas, all in
// sync, in the metadata.
func (c *Client) waitReassignments(ctx context.Context, changes []*Change, opts ApplyOptions) error {
	ctx, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	want := map[string]int{}
	var names []string
	for _, ch := range changes {
		want[ch.Topic] = int(ch.ReplicationFactor[1])
		names = append(names, ch.Topic)
	}
	pending := names[0]
	for {
		resps, err := c.adm.ListPartitionReassignments(ctx, nil)
		if err == nil {
			pending = ""
			for _, r := range resps.Sorted() {
				if _, ok := want[r.Topic]; ok {
					pending = r.Topic
				}
			}
		}
		if err == nil && pending == "" {
			md, err := c.metadata(ctx, names...)
			if err == nil {
				for _, n := range names {
					for _, pd := range md.Topics[n].Partitions {
						if len(pd.Replicas) != want[n] || len(pd.ISR) != want[n] {
							pending = n
						}
					}
				}
				if pending == "" {
					return nil
				}
			}
		}
		if err := backoff.Sleep(ctx, opts.PollInterval); err != nil {
			return fmt.Errorf("wait for reassignment of %s: %w", pending, err)
		}
	}
}

// waitConfigs waits until every broker shows the topic's updated dynamic
// configs, so a plan right after Apply, answered by any broker, sees them.
func (c *Client) waitConfigs(ctx context.Context, ch *Change) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	md, err := c.adm.BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("wait for configs of %s: %w", ch.Topic, err)
	}
	for _, b := range md.Brokers {
		for {
			req := kmsg.NewPtrDescribeConfigsRequest()
			rr := kmsg.NewDescribeConfigsRequestResource()
			rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, ch.Topic
			req.Resources = append(req.Resources, rr)
			resp, err := req.RequestWith(ctx, c.cl.Broker(int(b.NodeID)))
			if err == nil && len(resp.Resources) == 1 && resp.Resources[0].ErrorCode == 0 {
				dynamic := map[string]string{}
				for _, cfg := range resp.Resources[0].Configs {
					if cfg.Source == kmsg.ConfigSourceDynamicTopicConfig && cfg.Value != nil {
						dynamic[cfg.Name] = *cfg.Value
					}
				}
				done := true
				for _, k := range ch.Configs {
					v, ok := dynamic[k.Key]
					if k.New == nil && ok || k.New != nil && v != *k.New {
						done = false
					}
				}
				if done {
					break
				}
			}
			if err := backoff.Sleep(ctx, 100*time.Millisecond); err != nil {
				return fmt.Errorf("wait for configs of %s on broker %d: %w", ch.Topic, b.NodeID, err)
			}
		}
	}
	return nil
}

// deleteAll deletes topics in one DeleteTopics request. A topic already
// gone counts as deleted.
func (c *Client) deleteAll(ctx context.Context, deletes []*Change) ([]string, error) {
	names := make([]string, len(deletes))
	danger := map[string]string{}
	for i, ch := range deletes {
		names[i] = ch.Topic
		danger[ch.Topic] = ch.Danger
	}
	resps, err := c.adm.DeleteTopics(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("delete topics: %w", err)
	}
	var deleted []string
	var errs []error
	for _, r := range resps.Sorted() {
		if r.Err == nil || errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			deleted = append(deleted, r.Topic)
			c.log.Info("deleted topic", "topic", r.Topic, "danger", danger[r.Topic])
			continue
		}
		errs = append(errs, fmt.Errorf("delete %s: %w", r.Topic, r.Err))
	}
	return deleted, errors.Join(errs...)
}

// waitTopicsReady waits until every broker's metadata holds every topic
// with a leader for each partition, so whatever follows an Apply (a plan,
// a producer), whichever broker answers it, sees the topics it created.
func (c *Client) waitTopicsReady(ctx context.Context, names []string, opts ApplyOptions) error {
	if len(names) == 0 {
		return nil
	}
	return c.waitEveryBroker(ctx, opts, "topics to be ready", func(md *kmsg.MetadataResponse) bool {
		seen := map[string]bool{}
		for _, t := range md.Topics {
			if t.Topic == nil || t.ErrorCode != 0 || len(t.Partitions) == 0 {
				continue
			}
			ok := true
			for _, p := range t.Partitions {
				if p.Leader < 0 || p.ErrorCode != 0 {
					ok = false
				}
			}
			seen[*t.Topic] = ok
		}
		for _, n := range names {
			if !seen[n] {
				return false
			}
		}
		return true
	}, names...)
}

// waitTopicsGone waits until no broker's metadata holds the topics.
func (c *Client) waitTopicsGone(ctx context.Context, names []string, opts ApplyOptions) error {
	if len(names) == 0 {
		return nil
	}
	return c.waitEveryBroker(ctx, opts, "topics to be deleted", func(md *kmsg.MetadataResponse) bool {
		for _, t := range md.Topics {
			if t.ErrorCode == 0 && len(t.Partitions) > 0 {
				return false
			}
		}
		return true
	}, names...)
}

// waitEveryBroker asks every broker for the topics' metadata until done
// holds for each answer. Brokers learn of topic changes from the
// controller a moment apart; a plan asks whichever broker the client picks.
func (c *Client) waitEveryBroker(ctx context.Context, opts ApplyOptions, what string, done func(*kmsg.MetadataResponse) bool, topics ...string) error {
	ctx, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	var lastErr error
	for {
		md, err := c.adm.BrokerMetadata(ctx)
		if err == nil {
			all := true
			for _, b := range md.Brokers {
				req := kmsg.NewPtrMetadataRequest()
				for _, t := range topics {
					rt := kmsg.NewMetadataRequestTopic()
					rt.Topic = kmsg.StringPtr(t)
					req.Topics = append(req.Topics, rt)
				}
				resp, err := req.RequestWith(ctx, c.cl.Broker(int(b.NodeID)))
				if err != nil {
					lastErr, all = err, false
					break
				}
				if !done(resp) {
					all = false
					break
				}
			}
			if all {
				return nil
			}
		} else {
			lastErr = err
		}
		if err := backoff.Sleep(ctx, opts.PollInterval/5); err != nil {
			if lastErr != nil {
				return fmt.Errorf("wait for %s: %w (last error: %w)", what, err, lastErr)
			}
			return fmt.Errorf("wait for %s: %w", what, err)
		}
	}
}
