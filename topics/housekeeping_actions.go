package topics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// ActionMode says whether a housekeeping action changes the cluster.
type ActionMode int

const (
	// DryRun only describes what the action would do, in its audit
	// entries and the log. It is the zero value: an action whose mode
	// was not chosen deletes nothing.
	DryRun ActionMode = iota
	// Execute carries the action out.
	Execute
)

// String returns "dry run" or "execute".
func (m ActionMode) String() string {
	if m == Execute {
		return "execute"
	}
	return "dry run"
}

// Audit actions, the Action of an AuditEntry.
const (
	// AuditDeleteTopic deletes a topic.
	AuditDeleteTopic = "delete topic"
	// AuditDeleteGroup deletes a consumer group and its committed offsets.
	AuditDeleteGroup = "delete group"
	// AuditDeleteRecords deletes a partition's records before an offset.
	AuditDeleteRecords = "delete records"
)

// AuditEntry records one housekeeping action: done, or only described
// in a dry run. Each is also logged at info level.
type AuditEntry struct {
	// Time is when the action was taken, by the client's clock.
	Time time.Time
	// Action is one of the Audit constants.
	Action string
	// Target is the topic, the group, or the partition as topic[n].
	Target string
	// Detail says more, such as the offset records were deleted before.
	Detail string
	// DryRun is true when the action was only described.
	DryRun bool
	// Err is why the action failed; nil when it succeeded, or, in a dry
	// run, would have been attempted.
	Err error
}

// MarshalJSON encodes the entry with Err as its message.
func (e AuditEntry) MarshalJSON() ([]byte, error) {
	var msg string
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return json.Marshal(struct {
		Time   time.Time `json:"time"`
		Action string    `json:"action"`
		Target string    `json:"target"`
		Detail string    `json:"detail,omitempty"`
		DryRun bool      `json:"dry_run"`
		Error  string    `json:"error,omitempty"`
	}{e.Time, e.Action, e.Target, e.Detail, e.DryRun, msg})
}

// audit completes and logs the entries of one action and returns the
// aggregate error of the failed ones.
func (c *Client) audit(ctx context.Context, action string, entries []AuditEntry) error {
	var failed []AuditEntry
	for _, e := range entries {
		attrs := []slog.Attr{
			slog.String("action", e.Action),
			slog.String("target", e.Target),
			slog.Bool("dry_run", e.DryRun),
		}
		if e.Detail != "" {
			attrs = append(attrs, slog.String("detail", e.Detail))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.Any("error", e.Err))
			failed = append(failed, e)
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "housekeeping action", attrs...)
	}
	if len(failed) > 0 {
		return &HousekeepingError{Action: action, Attempted: len(entries), Failed: failed}
	}
	return nil
}

// DeleteIdleTopics deletes the report's idle topics, or in DryRun mode only
// says it would. Before either, it lists each topic's newest record again:
// a topic written since the report is left alone and its entry holds
// ErrStaleReport. It returns one audit entry per idle topic, and a
// *HousekeepingError when any failed.
func (c *Client) DeleteIdleTopics(ctx context.Context, report *HousekeepingReport, mode ActionMode) (_ []AuditEntry, err error) {
	ctx, done := c.guard(ctx)
	defer done(&err)
	dryRun := mode != Execute
	if report == nil || len(report.IdleTopics) == 0 {
		return nil, nil
	}
	names := make([]string, len(report.IdleTopics))
	for i, t := range report.IdleTopics {
		names[i] = t.Topic
	}
	newest, failed, err := c.newestRecords(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("delete idle topics: %w", err)
	}

	now := c.now()
	entries := make([]AuditEntry, len(names))
	var doomed []string
	for i, t := range report.IdleTopics {
		e := AuditEntry{Time: now, Action: AuditDeleteTopic, Target: t.Topic, DryRun: dryRun}
		ts, ok := newest[t.Topic]
		switch {
		case !ok:
			e.Err = failed[t.Topic]
		case ts.After(t.Newest):
			e.Err = fmt.Errorf("written at %s: %w", ts.UTC().Format(time.RFC3339), ErrStaleReport)
		case t.Empty:
			e.Detail = "empty"
		default:
			e.Detail = "newest record " + t.Newest.UTC().Format(time.RFC3339)
		}
		if e.Err == nil && !dryRun {
			doomed = append(doomed, t.Topic)
		}
		entries[i] = e
	}
	if len(doomed) > 0 {
		resps, err := c.adm.DeleteTopics(ctx, doomed...)
		for i := range entries {
			e := &entries[i]
			if e.Err != nil {
				continue
			}
			if err != nil {
				e.Err = err
			} else if r, ok := resps[e.Target]; !ok {
				e.Err = kerr.UnknownServerError
			} else if r.Err != nil {
				e.Err = r.Err
			}
		}
	}
	return entries, c.audit(ctx, AuditDeleteTopic, entries)
}

// DeleteDeadGroups deletes the report's empty and dead groups with their
// committed offsets, or in DryRun mode only says it would. Kafka refuses to
// delete a group that has gained members since the report
// (NON_EMPTY_GROUP); a group already gone counts as deleted. It returns
// one audit entry per group, and a *HousekeepingError when any failed.
func (c *Client) DeleteDeadGroups(ctx context.Context, report *HousekeepingReport, mode ActionMode) (_ []AuditEntry, err error) {
	ctx, done := c.guard(ctx)
	defer done(&err)
	dryRun := mode != Execute
	if report == nil {
		return nil, nil
	}
	var groups []InactiveGroup
	groups = append(groups, report.EmptyGroups...)
	groups = append(groups, report.DeadGroups...)
	if len(groups) == 0 {
		return nil, nil
	}
	now := c.now()
	entries := make([]AuditEntry, len(groups))
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Group
		entries[i] = AuditEntry{Time: now, Action: AuditDeleteGroup, Target: g.Group, Detail: "state " + g.State, DryRun: dryRun}
	}
	if !dryRun {
		resps, err := c.adm.DeleteGroups(ctx, names...)
		for i := range entries {
			e := &entries[i]
			r, ok := resps[e.Target]
			switch {
			case ok && errors.Is(r.Err, kerr.GroupIDNotFound):
				e.Detail += ", already gone"
			case ok:
				e.Err = r.Err
			case err != nil:
				e.Err = err
			default:
				e.Err = kerr.UnknownServerError
			}
		}
	}
	return entries, c.audit(ctx, AuditDeleteGroup, entries)
}

// TruncateBefore deletes the records of topic written before the given
// time, or in DryRun mode only says it would: in each partition, all records
// before the first one whose timestamp is at or after before. Partitions
// holding nothing older are left alone and get no entry. It returns one
// audit entry per partition, and a *HousekeepingError when any failed.
//
// Kafka finds that first record by the time index, so a record with an
// older timestamp written after it (a producer with a skewed clock) is
// kept.
func (c *Client) TruncateBefore(ctx context.Context, topic string, before time.Time, mode ActionMode) (_ []AuditEntry, err error) {
	ctx, done := c.guard(ctx)
	defer done(&err)
	dryRun := mode != Execute
	after, err := c.adm.ListOffsetsAfterMilli(ctx, before.UnixMilli(), topic)
	if err != nil {
		return nil, fmt.Errorf("truncate %q: list offsets after %s: %w", topic, before.UTC().Format(time.RFC3339), err)
	}
	starts, err := c.adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("truncate %q: list start offsets: %w", topic, err)
	}
	if o, ok := after.Lookup(topic, -1); ok && o.Err != nil {
		return nil, fmt.Errorf("truncate %q: %w", topic, o.Err)
	}

	now := c.now()
	var entries []AuditEntry
	cut := make(kadm.Offsets)
	var entryPartitions []int32
	for _, p := range slices.Sorted(maps.Keys(after[topic])) {
		a := after[topic][p]
		e := AuditEntry{Time: now, Action: AuditDeleteRecords, Target: fmt.Sprintf("%s[%d]", topic, p), DryRun: dryRun}
		s, ok := starts.Lookup(topic, p)
		switch {
		case a.Err != nil:
			e.Err = fmt.Errorf("list offset after %s: %w", before.UTC().Format(time.RFC3339), a.Err)
		case !ok:
			e.Err = fmt.Errorf("list start offset: %w", kerr.UnknownTopicOrPartition)
		case s.Err != nil:
			e.Err = fmt.Errorf("list start offset: %w", s.Err)
		case a.Offset <= s.Offset:
			continue // nothing older
		default:
			e.Detail = fmt.Sprintf("before offset %d (%d records)", a.Offset, a.Offset-s.Offset)
			if !dryRun {
				cut.AddOffset(topic, p, a.Offset, -1)
			}
		}
		entries = append(entries, e)
		entryPartitions = append(entryPartitions, p)
	}
	if len(cut) > 0 {
		resps, err := c.adm.DeleteRecords(ctx, cut)
		for i := range entries {
			e := &entries[i]
			if e.Err != nil {
				continue
			}
			r, ok := resps.Lookup(topic, entryPartitions[i])
			switch {
			case ok && r.Err != nil:
				e.Err = r.Err
			case ok:
			case err != nil:
				e.Err = err
			default:
				e.Err = kerr.UnknownServerError
			}
		}
	}
	return entries, c.audit(ctx, AuditDeleteRecords, entries)
}
