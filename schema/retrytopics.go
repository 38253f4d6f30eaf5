package schema

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// RetryTopic is one step of a consumer's retry topics (WithRetryTopics):
// a record the handler of Process still fails on is written to Topic, and
// handled again from there once Delay has passed since it was written.
type RetryTopic struct {
	Topic string
	Delay time.Duration
}

// WithRetryTopics gives Process retry topics with delays, tried in order
// after the in-place retries (WithRetries) and before the InvalidPolicy.
//
// A record that still fails where it was read, with an error not made
// with Reject, is written to the next step's topic, with its key, value
// and headers and the retry headers (see HeaderRetryTopic), and counts as
// done where it was read: the records after it, of its key too, go on.
// That is the trade: a record that waits in a retry topic no longer holds
// up its key, so its key's order is not kept. From the retry topic, the
// consumer handles it once the step's delay has passed since it was
// written, with in-place retries again; a record that fails at the last
// step goes to the policy, whose dead letter names the topic, partition
// and offset where the record was first read and every attempt made.
//
// NewConsumer subscribes the group to the retry topics and refuses to
// start when one does not exist (ErrTopicNotFound). Give a group retry
// topics of its own, such as "orders.pricer.retry-1m": another group
// reading them would handle this group's records. A consumer built with
// WithClient must consume them itself. While the first record of a retry
// topic's partition waits, the consumer pauses the partition's fetching,
// so a record that waits costs no memory beyond the records fetched with
// it; the delay must stay well within the retry topic's retention.
//
// Poll honors the delays too, but only Process writes to retry topics.
func WithRetryTopics(steps ...RetryTopic) ConsumerOpt {
	steps = append([]RetryTopic(nil), steps...)
	return consumerOpt{opt{optRetryTopics, func(c *config) { c.retryTopics = steps }}}
}

// validateRetryTopics checks steps against each other, the consumed
// topics and the dead-letter topic.
func validateRetryTopics(steps []RetryTopic, topics []string, policy InvalidPolicy) error {
	seen := map[string]bool{}
	for _, t := range topics {
		seen[t] = true
	}
	for i, s := range steps {
		switch {
		case s.Topic == "":
			return fmt.Errorf("retry topic %d: empty topic", i+1)
		case s.Delay <= 0:
			return fmt.Errorf("retry topic %q: delay %s: want more than 0", s.Topic, s.Delay)
		case policy.mode == deadLetter && s.Topic == policy.topic:
			return fmt.Errorf("retry topic %q: it is the dead-letter topic", s.Topic)
		case seen[s.Topic]:
			return fmt.Errorf("retry topic %q: named twice, or also a topic the consumer reads", s.Topic)
		}
		seen[s.Topic] = true
	}
	return nil
}

// Headers that Process adds to a record it writes to a retry topic,
// replacing those of an earlier step. Values are text.
const (
	// HeaderRetryTopic, HeaderRetryPartition and HeaderRetryOffset are
	// where the record was first read, before any retry topic.
	HeaderRetryTopic     = "streamkit.retry.topic"
	HeaderRetryPartition = "streamkit.retry.partition"
	HeaderRetryOffset    = "streamkit.retry.offset"
	// HeaderRetryAttempts is how many times the record has been tried,
	// over every step so far.
	HeaderRetryAttempts = "streamkit.retry.attempts"
	// HeaderRetryError is the handler's last error.
	HeaderRetryError = "streamkit.retry.error"
)

// RetryInfo is what a record of a retry topic says about itself (see
// HeaderRetryTopic).
type RetryInfo struct {
	// Topic, Partition and Offset are where the record was first read.
	Topic     string
	Partition int32
	Offset    int64
	// Attempts is how many times it has been tried so far.
	Attempts int
	// Error is the text of the handler's last error.
	Error string
}

// ReadRetry reads the retry headers of a record, so that a handler or a
// tool can tell a retried record from a first one, and where it came
// from. ok is false when the record has no retry headers, or malformed
// ones: a record that Process did not write to a retry topic.
func ReadRetry(r *kgo.Record) (info RetryInfo, ok bool) {
	seen := 0
	for _, h := range r.Headers {
		var err error
		switch h.Key {
		case HeaderRetryTopic:
			info.Topic = string(h.Value)
		case HeaderRetryPartition:
			var n int64
			n, err = strconv.ParseInt(string(h.Value), 10, 32)
			info.Partition = int32(n)
		case HeaderRetryOffset:
			info.Offset, err = strconv.ParseInt(string(h.Value), 10, 64)
		case HeaderRetryAttempts:
			info.Attempts, err = strconv.Atoi(string(h.Value))
		case HeaderRetryError:
			info.Error = string(h.Value)
		default:
			continue
		}
		if err != nil {
			return RetryInfo{}, false
		}
		seen++
	}
	if seen != 5 || info.Attempts < 1 {
		return RetryInfo{}, false
	}
	return info, true
}

// Retry reports whether the record was read from a retry topic, and what
// its headers say (see ReadRetry).
func (r *Record[T]) Retry() (RetryInfo, bool) {
	if r.raw == nil {
		return RetryInfo{}, false
	}
	return ReadRetry(r.raw)
}

// placeOf is where r was read.
func placeOf(r *kgo.Record) RetryInfo {
	return RetryInfo{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}
}

// origin is where a record was first read and how many times it was tried
// before the consumer read it: itself and 0 for a record not read from a
// retry topic.
func (c *Consumer[T]) origin(r *kgo.Record) RetryInfo {
	if _, ok := c.retryStep[r.Topic]; ok {
		if info, ok := ReadRetry(r); ok {
			return info
		}
	}
	return placeOf(r)
}

// nextStep returns the retry topic a record of topic that still fails
// goes to, if any.
func (c *Consumer[T]) nextStep(topic string) (RetryTopic, bool) {
	next := 0
	if i, ok := c.retryStep[topic]; ok {
		next = i + 1
	}
	if next < len(c.retryTopics) {
		return c.retryTopics[next], true
	}
	return RetryTopic{}, false
}

// retryRecord is r for a retry topic: its key, value and headers, without
// those of an earlier step, then the retry headers. Its timestamp is left
// to the client, so that it is the time of the write the delay counts
// from.
func retryRecord(topic string, r *kgo.Record, from RetryInfo, attempts int, cause error) *kgo.Record {
	headers := make([]kgo.RecordHeader, 0, len(r.Headers)+5)
	for _, h := range r.Headers {
		if !strings.HasPrefix(h.Key, "streamkit.retry.") {
			headers = append(headers, h)
		}
	}
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderRetryTopic, Value: []byte(from.Topic)},
		kgo.RecordHeader{Key: HeaderRetryPartition, Value: []byte(strconv.FormatInt(int64(from.Partition), 10))},
		kgo.RecordHeader{Key: HeaderRetryOffset, Value: []byte(strconv.FormatInt(from.Offset, 10))},
		kgo.RecordHeader{Key: HeaderRetryAttempts, Value: []byte(strconv.Itoa(attempts))},
		kgo.RecordHeader{Key: HeaderRetryError, Value: []byte(cause.Error())},
	)
	return &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: headers}
}

// due reports when a record of a retry topic may be handled; ok is false
// for a record of another topic.
func (c *Consumer[T]) due(r *kgo.Record) (time.Time, bool) {
	i, ok := c.retryStep[r.Topic]
	if !ok {
		return time.Time{}, false
	}
	return r.Timestamp.Add(c.retryTopics[i].Delay), true
}
