package platformtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// CreateTopics creates topics with the given number of partitions and the
// cluster's default replication factor, then waits until the end offsets
// of every one of them can be listed: on several brokers a new topic
// reaches each a moment apart, and a test that produces at once would
// otherwise see UNKNOWN_TOPIC_OR_PARTITION. It gives up when ctx ends.
func CreateTopics(ctx context.Context, adm *kadm.Client, partitions int32, names ...string) error {
	resps, err := adm.CreateTopics(ctx, partitions, -1, nil, names...)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		return fmt.Errorf("create topics %v: %w", names, err)
	}
	for {
		offs, err := adm.ListEndOffsets(ctx, names...)
		if err == nil {
			err = offs.Error()
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topics %v never listed their offsets: %w", names, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CreateTopicsT is CreateTopics for tests: it waits at most 30 seconds,
// fails tb on error and deletes the topics when tb ends.
func CreateTopicsT(tb testing.TB, adm *kadm.Client, partitions int32, names ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, names...)
	})
	if err := CreateTopics(ctx, adm, partitions, names...); err != nil {
		tb.Fatal(err)
	}
}
