// Command platformcheck is the Kafka readiness probe of scripts/platform: it
// waits until the brokers accept a produce and serve the same record back to
// a consumer, which an open port alone does not show.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const topic = "_streamkit-platform-check"

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "comma-separated bootstrap brokers")
	timeout := flag.Duration("timeout", 90*time.Second, "how long to keep trying")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start := time.Now()
	var err error
	for {
		if err = roundTrip(ctx, strings.Split(*brokers, ",")); err == nil {
			fmt.Printf("platformcheck: kafka round trip ok after %s\n", time.Since(start).Round(time.Millisecond))
			return
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(os.Stderr, "platformcheck: kafka not ready after %s: %v\n", *timeout, err)
			os.Exit(1)
		case <-time.After(time.Second):
		}
	}
}

// roundTrip creates the check topic if needed, produces one record with a
// unique value and consumes from the produced offset until it reads it.
func roundTrip(ctx context.Context, brokers []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RequestRetries(2))
	if err != nil {
		return err
	}
	defer cl.Close()

	attemptCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()

	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(attemptCtx, 1, -1, nil, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic: %w", err)
	}
	if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic: %w", resp.Err)
	}

	want := fmt.Sprintf("check-%d", time.Now().UnixNano())
	r, err := cl.ProduceSync(attemptCtx, &kgo.Record{Topic: topic, Value: []byte(want)}).First()
	if err != nil {
		return fmt.Errorf("produce: %w", err)
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			topic: {r.Partition: kgo.NewOffset().At(r.Offset)},
		}))
	if err != nil {
		return err
	}
	defer consumer.Close()
	for {
		fs := consumer.PollFetches(attemptCtx)
		if err := attemptCtx.Err(); err != nil {
			return fmt.Errorf("consume: %w", err)
		}
		var got bool
		fs.EachRecord(func(rec *kgo.Record) { got = got || string(rec.Value) == want })
		if got {
			return nil
		}
	}
}
