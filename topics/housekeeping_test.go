package topics

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// housekeepingCluster seeds a fake cluster with one topic for each finding:
//
//   - hk-active: written an hour ago, consumed by the Stable group
//     hk-stable and the Empty group hk-empty (committed at 1);
//   - hk-idle: written 30 days ago, consumed by hk-empty;
//   - hk-vacant: empty, no group;
//   - hk-lonely: written an hour ago, no group, infinite retention;
//   - hk-month: retention 30 days, no group;
//   - other: outside the prefix, written 30 days ago;
//   - _hk-internal: internal by name, written 30 days ago.
func housekeepingCluster(t *testing.T) (*Client, []string) {
	t.Helper()
	c, brokers := fakeCluster(t, 1, "hk-active", "hk-idle", "hk-vacant", "other", "_hk-internal")
	ctx := testContext(t)
	for name, retention := range map[string]string{"hk-lonely": "-1", "hk-month": "2592000000"} {
		if _, err := c.adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": &retention}, name); err != nil {
			t.Fatal(err)
		}
	}
	produceAt(t, c, "hk-active", 0, base.Add(-time.Hour))
	produceAt(t, c, "hk-idle", 0, base.Add(-31*24*time.Hour), base.Add(-30*24*time.Hour))
	produceAt(t, c, "hk-lonely", 0, base.Add(-time.Hour))
	produceAt(t, c, "hk-month", 0, base.Add(-time.Hour))
	produceAt(t, c, "other", 0, base.Add(-30*24*time.Hour))
	produceAt(t, c, "_hk-internal", 0, base.Add(-30*24*time.Hour))
	commitAt(t, c, "hk-empty", "hk-active", 0, 1)
	commitAt(t, c, "hk-empty", "hk-idle", 0, 1)
	commitAt(t, c, "other-empty", "other", 0, 1)
	joinGroup(t, brokers, "hk-stable", "hk-active")
	return c, brokers
}

func TestHousekeeping(t *testing.T) {
	c, _ := housekeepingCluster(t)
	ctx := testContext(t)
	opts := HousekeepingOptions{
		IdleAfter:       7 * 24 * time.Hour,
		MaxRetention:    14 * 24 * time.Hour,
		PricePerGBMonth: 0.25,
		Prefix:          "hk-",
	}
	r, err := c.Housekeeping(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("idle topics", func(t *testing.T) {
		want := []IdleTopic{
			{Topic: "hk-idle", Newest: base.Add(-30 * 24 * time.Hour), IdleFor: 30 * 24 * time.Hour},
			{Topic: "hk-vacant", Empty: true},
		}
		if !slices.EqualFunc(r.IdleTopics, want, func(a, b IdleTopic) bool {
			return a.Topic == b.Topic && a.Empty == b.Empty && a.Newest.Equal(b.Newest) && a.IdleFor == b.IdleFor
		}) {
			t.Fatalf("got %+v, want %+v", r.IdleTopics, want)
		}
	})
	t.Run("topics without groups", func(t *testing.T) {
		if want := []string{"hk-lonely", "hk-month", "hk-vacant"}; !slices.Equal(r.TopicsWithoutGroups, want) {
			t.Fatalf("got %v, want %v", r.TopicsWithoutGroups, want)
		}
	})
	t.Run("empty groups with age", func(t *testing.T) {
		if len(r.EmptyGroups) != 1 || len(r.DeadGroups) != 0 {
			t.Fatalf("got empty %+v and dead %+v, want only hk-empty", r.EmptyGroups, r.DeadGroups)
		}
		g := r.EmptyGroups[0]
		if g.Group != "hk-empty" || g.State != "Empty" || !slices.Equal(g.Topics, []string{"hk-active", "hk-idle"}) {
			t.Fatalf("got %+v, want hk-empty on hk-active and hk-idle", g)
		}
		// The newest record it consumed is offset 0 of hk-active; offset 0
		// of hk-idle is a month older.
		if want := base.Add(-time.Hour); !g.LastConsumed.Equal(want) || g.Age != time.Hour {
			t.Fatalf("got last consumed %v age %v, want %v and 1h", g.LastConsumed, g.Age, want)
		}
	})
	t.Run("over retention", func(t *testing.T) {
		want := []LongRetention{
			{Topic: "hk-lonely", RetentionMS: -1, CleanupPolicy: "delete"},
			{Topic: "hk-month", RetentionMS: 30 * 24 * 3600 * 1000, CleanupPolicy: "delete"},
		}
		if !slices.Equal(r.OverRetention, want) {
			t.Fatalf("got %+v, want %+v", r.OverRetention, want)
		}
		if !r.OverRetention[0].Infinite() || r.OverRetention[1].Infinite() {
			t.Fatalf("got infinite %v and %v, want true and false", r.OverRetention[0].Infinite(), r.OverRetention[1].Infinite())
		}
	})
	t.Run("storage and cost", func(t *testing.T) {
		// kfake keeps one replica per partition and reports the bytes it
		// holds in memory: compare with its own log dirs.
		dirs, err := c.adm.DescribeAllLogDirs(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		sizes := make(map[string]int64)
		dirs.Each(func(d kadm.DescribedLogDir) {
			d.Topics.Each(func(p kadm.DescribedLogDirPartition) { sizes[p.Topic] += p.Size })
		})
		var names []string
		var total int64
		for _, s := range r.Storage {
			names = append(names, s.Topic)
			if s.Bytes != sizes[s.Topic] || s.LeaderBytes != s.Bytes || s.Partitions != 1 {
				t.Fatalf("%s: got %+v, want %d bytes on the only replica, the leader", s.Topic, s, sizes[s.Topic])
			}
			if want := float64(s.Bytes) / 1e9 * 0.25; s.MonthlyCost != want {
				t.Fatalf("%s: got cost %v, want %v", s.Topic, s.MonthlyCost, want)
			}
			total += s.Bytes
		}
		slices.Sort(names)
		if want := []string{"hk-active", "hk-idle", "hk-lonely", "hk-month", "hk-vacant"}; !slices.Equal(names, want) {
			t.Fatalf("got storage for %v, want %v", names, want)
		}
		if sizes["hk-idle"] == 0 || sizes["hk-vacant"] != 0 {
			t.Fatalf("got sizes %v, want hk-idle > 0 and hk-vacant 0", sizes)
		}
		if r.Storage[0].Topic != "hk-idle" {
			t.Fatalf("got %s first, want the largest, hk-idle", r.Storage[0].Topic)
		}
		if r.TotalBytes != total || len(r.Brokers) != 1 || r.Brokers[0].Bytes != total {
			t.Fatalf("got total %d and brokers %+v, want %d on one broker", r.TotalBytes, r.Brokers, total)
		}
		if want := float64(total) / 1e9 * 0.25; math.Abs(r.TotalMonthlyCost-want) > 1e-12 {
			t.Fatalf("got total cost %v, want %v", r.TotalMonthlyCost, want)
		}
	})

	t.Run("no prefix leaves internal topics out", func(t *testing.T) {
		for _, tc := range []struct {
			includeInternal bool
			wantInternal    bool
		}{{false, false}, {true, true}} {
			o := HousekeepingOptions{IdleAfter: opts.IdleAfter, IncludeInternal: tc.includeInternal}
			r, err := c.Housekeeping(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			var idle []string
			for _, it := range r.IdleTopics {
				idle = append(idle, it.Topic)
			}
			if !slices.Contains(idle, "other") {
				t.Fatalf("got idle %v, want other in it", idle)
			}
			if got := slices.Contains(idle, "_hk-internal"); got != tc.wantInternal {
				t.Fatalf("IncludeInternal %v: got _hk-internal idle %v, want %v", tc.includeInternal, got, tc.wantInternal)
			}
			if r.OverRetention != nil {
				t.Fatalf("got over retention %v with MaxRetention 0, want nil", r.OverRetention)
			}
		}
	})
}

func TestHousekeepingReportRendering(t *testing.T) {
	r := &HousekeepingReport{
		Time:    base,
		Options: HousekeepingOptions{IdleAfter: 24 * time.Hour, MaxRetention: time.Hour, PricePerGBMonth: 0.1, Prefix: "t-"},
		IdleTopics: []IdleTopic{
			{Topic: "t-old", Newest: base.Add(-48 * time.Hour), IdleFor: 48 * time.Hour},
			{Topic: "t-void", Empty: true},
		},
		TopicsWithoutGroups: []string{"t-void"},
		EmptyGroups:         []InactiveGroup{{Group: "t-g", State: "Empty", ProtocolType: "consumer", Topics: []string{"t-old"}, LastConsumed: base.Add(-50 * time.Hour), Age: 50 * time.Hour}},
		DeadGroups:          []InactiveGroup{{Group: "t-dead", State: "Dead"}},
		OverRetention:       []LongRetention{{Topic: "t-old", RetentionMS: -1, CleanupPolicy: "delete"}},
		Storage:             []TopicStorage{{Topic: "t-old", Partitions: 3, Bytes: 3_000_000_000, LeaderBytes: 1_000_000_000, MonthlyCost: 0.3}},
		Brokers:             []BrokerStorage{{Broker: 1, Bytes: 1_000_000_000}, {Broker: 2, Bytes: 2_000_000_000}},
		TotalBytes:          3_000_000_000,
		TotalMonthlyCost:    0.3,
	}
	text := r.String()
	for _, want := range []string{
		`housekeeping report at 2025-03-01T12:00:00Z (prefix "t-", idle after 24h0m0s, max retention 1h0m0s, 0.1 per GB-month)`,
		"idle topics (2):",
		"t-old: newest record 2025-02-27T12:00:00Z, idle 48h0m0s",
		"t-void: empty",
		"topics without a consumer group (1):",
		"t-g: consumer; topics t-old; last consumed record 2025-02-27T10:00:00Z, age 50h0m0s",
		"t-dead: age unknown",
		"t-old: retention infinite, cleanup.policy delete",
		"3.0 GB",
		"1.0 GB",
		"0.30",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("got text without %q:\n%s", want, text)
		}
	}

	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back HousekeepingReport
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if got, want := back.Storage[0].MonthlyCost, 0.3; got != want {
		t.Fatalf("got cost %v after a JSON round trip, want %v", got, want)
	}
	if !back.IdleTopics[0].Newest.Equal(r.IdleTopics[0].Newest) || !back.IdleTopics[1].Empty {
		t.Fatalf("got idle topics %+v after a JSON round trip, want %+v", back.IdleTopics, r.IdleTopics)
	}
	if !strings.Contains(string(raw), `"over_retention":[{"topic":"t-old","retention_ms":-1`) {
		t.Fatalf("got JSON %s, want over_retention with retention_ms -1", raw)
	}
}

// TestAddStorage checks the storage arithmetic with replication, which
// kfake does not have: it keeps one replica per partition.
func TestAddStorage(t *testing.T) {
	dirs := make(kadm.DescribedAllLogDirs)
	add := func(broker int32, dir, topic string, p int32, size int64, future bool) {
		if dirs[broker] == nil {
			dirs[broker] = make(kadm.DescribedLogDirs)
		}
		d, ok := dirs[broker][dir]
		if !ok {
			d = kadm.DescribedLogDir{Broker: broker, Dir: dir, Topics: make(kadm.DescribedLogDirTopics)}
			dirs[broker][dir] = d
		}
		if d.Topics[topic] == nil {
			d.Topics[topic] = make(map[int32]kadm.DescribedLogDirPartition)
		}
		d.Topics[topic][p] = kadm.DescribedLogDirPartition{Broker: broker, Dir: dir, Topic: topic, Partition: p, Size: size, IsFuture: future}
	}
	topic := func(name string, leaders ...int32) kadm.TopicDetail {
		ps := make(kadm.PartitionDetails)
		for p, l := range leaders {
			ps[int32(p)] = kadm.PartitionDetail{Topic: name, Partition: int32(p), Leader: l}
		}
		return kadm.TopicDetail{Topic: name, Partitions: ps}
	}
	selected := map[string]kadm.TopicDetail{
		"a": topic("a", 1, 2),
		"b": topic("b", 3),
	}
	add(1, "/d", "a", 0, 100, false)
	add(1, "/d", "a", 1, 200, false)
	add(1, "/e", "b", 0, 1_000, false)
	add(1, "/e", "not-selected", 0, 9_999, false)
	add(2, "/d", "a", 0, 100, false)
	add(2, "/d", "a", 1, 200, false)
	add(2, "/e", "a", 1, 200, true) // being moved from /d: counted once
	add(3, "/d", "a", 0, 100, false)
	add(3, "/d", "b", 0, 1_000, false)
	r := &HousekeepingReport{Options: HousekeepingOptions{PricePerGBMonth: 2}}
	if problems := r.addStorage(selected, dirs); len(problems) != 0 {
		t.Fatalf("got problems %v, want none", problems)
	}
	wantTopics := []TopicStorage{
		{Topic: "b", Partitions: 1, Bytes: 2_000, LeaderBytes: 1_000, MonthlyCost: 2_000 / 1e9 * 2},
		{Topic: "a", Partitions: 2, Bytes: 700, LeaderBytes: 300, MonthlyCost: 700 / 1e9 * 2},
	}
	if !slices.Equal(r.Storage, wantTopics) {
		t.Fatalf("got %+v, want %+v", r.Storage, wantTopics)
	}
	wantBrokers := []BrokerStorage{{1, 1_300}, {2, 300}, {3, 1_100}}
	if !slices.Equal(r.Brokers, wantBrokers) {
		t.Fatalf("got %+v, want %+v", r.Brokers, wantBrokers)
	}
	if r.TotalBytes != 2_700 || math.Abs(r.TotalMonthlyCost-2_700/1e9*2) > 1e-15 {
		t.Fatalf("got total %d bytes costing %v, want 2700 costing %v", r.TotalBytes, r.TotalMonthlyCost, 2_700/1e9*2)
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {999, "999 B"}, {1_000, "1.0 kB"}, {1_500_000, "1.5 MB"}, {3_000_000_000, "3.0 GB"}, {2_000_000_000_000_000, "2.0 PB"}} {
		if got := formatBytes(tc.n); got != tc.want {
			t.Errorf("formatBytes(%d): got %v, want %v", tc.n, got, tc.want)
		}
	}
}

// auditLog sets c's logger to one that writes JSON lines to the returned
// buffer.
func auditLog(c *Client) *bytes.Buffer {
	var buf bytes.Buffer
	c.log = slog.New(slog.NewJSONHandler(&buf, nil))
	return &buf
}

// auditLines decodes the audit lines in buf.
func auditLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	buf.Reset()
	return lines
}

// checkAudit checks that entries and the log lines each describe the
// wanted targets in order, with dryRun.
func checkAudit(t *testing.T, entries []AuditEntry, lines []map[string]any, action string, dryRun bool, targets ...string) {
	t.Helper()
	var got []string
	for _, e := range entries {
		got = append(got, e.Target)
		if e.Action != action || e.DryRun != dryRun || !e.Time.Equal(base) {
			t.Fatalf("got entry %+v, want action %q dry run %v at %v", e, action, dryRun, base)
		}
	}
	if !slices.Equal(got, targets) {
		t.Fatalf("got targets %v, want %v", got, targets)
	}
	if len(lines) != len(entries) {
		t.Fatalf("got %d log lines, want one per entry (%d)", len(lines), len(entries))
	}
	for i, l := range lines {
		if l["msg"] != "housekeeping action" || l["level"] != "INFO" || l["action"] != action || l["target"] != targets[i] || l["dry_run"] != dryRun {
			t.Fatalf("got log line %v, want an info audit line for %s %s dry run %v", l, action, targets[i], dryRun)
		}
	}
}

// topicExists asks with a new client: kadm answers from metadata that the
// kgo client caches for up to MetadataMinAge.
func topicExists(t *testing.T, c *Client, topic string) bool {
	t.Helper()
	cl, err := kgo.NewClient(c.readerOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tds, err := kadm.NewClient(cl).ListTopics(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	return tds.Has(topic)
}

func groupState(t *testing.T, c *Client, group string) string {
	t.Helper()
	listed, err := c.adm.ListGroups(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	return listed[group].State
}

func TestDeleteIdleTopics(t *testing.T) {
	c, _ := housekeepingCluster(t)
	ctx := testContext(t)
	logs := auditLog(c)
	r, err := c.Housekeeping(ctx, HousekeepingOptions{IdleAfter: 7 * 24 * time.Hour, Prefix: "hk-"})
	if err != nil {
		t.Fatal(err)
	}
	auditLines(t, logs) // Housekeeping itself logs no audit line

	for _, dryRun := range []bool{true, false} {
		entries, err := c.DeleteIdleTopics(ctx, r, modeOf(dryRun))
		if err != nil {
			t.Fatalf("dry run %v: %v", dryRun, err)
		}
		checkAudit(t, entries, auditLines(t, logs), AuditDeleteTopic, dryRun, "hk-idle", "hk-vacant")
		for _, topic := range []string{"hk-idle", "hk-vacant"} {
			if got, want := topicExists(t, c, topic), dryRun; got != want {
				t.Fatalf("dry run %v: got %s exists %v, want %v", dryRun, topic, got, want)
			}
		}
		if !topicExists(t, c, "hk-active") {
			t.Fatalf("dry run %v: hk-active deleted, want it kept", dryRun)
		}
	}
}

func TestDeleteIdleTopicsStaleReport(t *testing.T) {
	c, _ := housekeepingCluster(t)
	ctx := testContext(t)
	logs := auditLog(c)
	r, err := c.Housekeeping(ctx, HousekeepingOptions{IdleAfter: 7 * 24 * time.Hour, Prefix: "hk-"})
	if err != nil {
		t.Fatal(err)
	}
	produceAt(t, c, "hk-vacant", 0, base) // written after the report
	auditLines(t, logs)

	for _, dryRun := range []bool{true, false} {
		entries, err := c.DeleteIdleTopics(ctx, r, modeOf(dryRun))
		var he *HousekeepingError
		if !errors.As(err, &he) || !errors.Is(err, ErrStaleReport) {
			t.Fatalf("dry run %v: got %v, want a *HousekeepingError with ErrStaleReport", dryRun, err)
		}
		if len(he.Failed) != 1 || he.Failed[0].Target != "hk-vacant" || he.Attempted != 2 {
			t.Fatalf("dry run %v: got %+v, want hk-vacant failed of 2", dryRun, he)
		}
		checkAudit(t, entries, auditLines(t, logs), AuditDeleteTopic, dryRun, "hk-idle", "hk-vacant")
		if !topicExists(t, c, "hk-vacant") {
			t.Fatalf("dry run %v: hk-vacant deleted although written since the report", dryRun)
		}
	}
	if topicExists(t, c, "hk-idle") {
		t.Fatal("hk-idle kept, want it deleted")
	}
}

func TestDeleteDeadGroups(t *testing.T) {
	c, _ := housekeepingCluster(t)
	ctx := testContext(t)
	logs := auditLog(c)
	r, err := c.Housekeeping(ctx, HousekeepingOptions{Prefix: "hk-"})
	if err != nil {
		t.Fatal(err)
	}
	// kfake, like Kafka, does not list a Dead group: one gone already
	// stands in for it and counts as deleted.
	r.DeadGroups = append(r.DeadGroups, InactiveGroup{Group: "hk-gone", State: "Dead"})
	auditLines(t, logs)

	for _, dryRun := range []bool{true, false} {
		entries, err := c.DeleteDeadGroups(ctx, r, modeOf(dryRun))
		if err != nil {
			t.Fatalf("dry run %v: %v", dryRun, err)
		}
		checkAudit(t, entries, auditLines(t, logs), AuditDeleteGroup, dryRun, "hk-empty", "hk-gone")
		state := groupState(t, c, "hk-empty")
		if dryRun && state != "Empty" || !dryRun && state != "" {
			t.Fatalf("dry run %v: got hk-empty state %q after the action", dryRun, state)
		}
	}
	if got := groupState(t, c, "hk-stable"); got != "Stable" {
		t.Fatalf("got hk-stable state %q, want Stable", got)
	}

	t.Run("a group with members is refused", func(t *testing.T) {
		stale := &HousekeepingReport{EmptyGroups: []InactiveGroup{{Group: "hk-stable", State: "Empty"}}}
		entries, err := c.DeleteDeadGroups(ctx, stale, Execute)
		if !errors.Is(err, kerr.NonEmptyGroup) {
			t.Fatalf("got %v, want NON_EMPTY_GROUP", err)
		}
		checkAudit(t, entries, auditLines(t, logs), AuditDeleteGroup, false, "hk-stable")
		if entries[0].Err == nil || entryJSONError(entries[0]) == "" {
			t.Fatalf("got entry %+v, want its error", entries[0])
		}
	})
}

func entryJSONError(e AuditEntry) string {
	raw, _ := json.Marshal(e)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	s, _ := m["error"].(string)
	return s
}

func TestTruncateBefore(t *testing.T) {
	c, _ := fakeCluster(t, 3, "events")
	ctx := testContext(t)
	logs := auditLog(c)
	produceAt(t, c, "events", 0, minutes(base.Add(-10*time.Minute), 6)...) // -10m .. -5m
	produceAt(t, c, "events", 1, minutes(base.Add(-time.Minute), 3)...)    // -1m .. +1m
	produceAt(t, c, "events", 2, minutes(base.Add(-20*time.Minute), 2)...) // -20m, -19m: all older

	before := base.Add(-7 * time.Minute)
	starts := func() map[int32]int64 {
		listed, err := c.adm.ListStartOffsets(ctx, "events")
		if err != nil {
			t.Fatal(err)
		}
		out := make(map[int32]int64)
		listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
		return out
	}

	for _, tc := range []struct {
		dryRun bool
		want   map[int32]int64
	}{
		{true, map[int32]int64{0: 0, 1: 0, 2: 0}},
		{false, map[int32]int64{0: 3, 1: 0, 2: 2}},
	} {
		entries, err := c.TruncateBefore(ctx, "events", before, modeOf(tc.dryRun))
		if err != nil {
			t.Fatalf("dry run %v: %v", tc.dryRun, err)
		}
		checkAudit(t, entries, auditLines(t, logs), AuditDeleteRecords, tc.dryRun, "events[0]", "events[2]")
		if got, want := entries[0].Detail, "before offset 3 (3 records)"; got != want {
			t.Fatalf("got detail %q, want %q", got, want)
		}
		if got := starts(); !maps.Equal(got, tc.want) {
			t.Fatalf("dry run %v: got start offsets %v, want %v", tc.dryRun, got, tc.want)
		}
	}

	t.Run("again finds nothing older", func(t *testing.T) {
		entries, err := c.TruncateBefore(ctx, "events", before, Execute)
		if err != nil || len(entries) != 0 {
			t.Fatalf("got %v, %v, want no entries", entries, err)
		}
	})
	t.Run("unknown topic", func(t *testing.T) {
		_, err := c.TruncateBefore(ctx, "nope", before, Execute)
		if !errors.Is(err, kerr.UnknownTopicOrPartition) {
			t.Fatalf("got %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
		}
	})
}

func TestAuditEntryJSONAndError(t *testing.T) {
	e := AuditEntry{Time: base, Action: AuditDeleteTopic, Target: "t", DryRun: true, Err: kerr.TopicAuthorizationFailed}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2025-03-01T12:00:00Z","action":"delete topic","target":"t","dry_run":true,"error":"` + kerr.TopicAuthorizationFailed.Error() + `"}`
	if string(raw) != want {
		t.Fatalf("got %s, want %s", raw, want)
	}
	he := &HousekeepingError{Action: AuditDeleteTopic, Attempted: 3, Failed: []AuditEntry{e}}
	if got, want := he.Error(), "delete topic: 1 of 3 failed: t: "+kerr.TopicAuthorizationFailed.Error(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !errors.Is(he, kerr.TopicAuthorizationFailed) {
		t.Fatal("got no match for the item's error, want errors.Is to find it")
	}
}

// modeOf is the ActionMode of a test case's dry-run flag.
func modeOf(dryRun bool) ActionMode {
	if dryRun {
		return DryRun
	}
	return Execute
}
