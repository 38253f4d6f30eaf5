// Package schema is streamkit's data plane: Avro values on Kafka in the
// Confluent wire format, typed end to end, with the schema registry
// consulted once per schema and never on the hot path.
//
//	reg, _ := schema.NewRegistryFromOptions(sr.URLs(registryURL))
//	p, _ := schema.NewProducer[Order](ctx, reg, "retail.orders.v1",
//		schema.WithClientOpts(kgo.SeedBrokers(brokers...)))
//	_ = p.ProduceSync(ctx, schema.Message[Order]{Key: []byte(o.ID), Value: o})
//
//	c, _ := schema.NewConsumer[Order](ctx, reg, "billing", []string{"retail.orders.v1"},
//		schema.WithClientOpts(kgo.SeedBrokers(brokers...)),
//		schema.OnInvalid(schema.DeadLetter("retail.orders.v1.dlq")),
//		schema.WithConcurrency(16))
//	err := c.Process(ctx, func(ctx context.Context, r *schema.Record[Order]) error {
//		return bill(ctx, r.Value) // nil: done; an error: retried, then the policy
//	})
//
// How the parts fit: a Registry wraps franz-go's sr.Client with caches
// (subject and schema to ID, ID to schema) and single-flight misses. A
// Serde[T] encodes and decodes T, finding its schema ID by a subject
// strategy (TopicName, RecordName, TopicRecordName or your own) and a
// registration policy (AutoRegister, LookupOnly, UseLatest, PinnedID), and
// resolving each writer's schema into T's once per schema ID, so a
// consumer of one version reads records of a compatible other. Producer[T]
// and Consumer[T] put a Serde on a franz-go client; the consumer commits
// only what the caller marked and sends records it cannot decode to a
// dead-letter topic, skips them, or stops, as its InvalidPolicy says.
// Consumer.Process is the loop around a handler: retries in place, retry
// topics with delays (WithRetryTopics), the policy for records the handler
// fails on, records of different keys in parallel and each key's in order,
// commits of what is done, and partitions drained before a rebalance takes
// them; Poll and MarkProcessed are the parts it is built of, and
// Consumer.Records a range loop over them that marks what it moves on
// from. Pipeline[In, Out] reads, transforms and writes in Kafka
// transactions, exactly once. Keys are bytes, or typed with a KeyCodec
// (StringKeys, AvroKeys) through KeyedProducer and ProcessKeyed.
// CheckCompatibility checks a schema offline, and Registry.CheckCompatibility
// asks the registry, before anything is registered; both also refuse a
// decimal whose precision or scale changes, which Avro and the registry
// let through.
//
// Schemas come from the team repository's .avsc files (Parse, ParseFile,
// or ParseFS over files embedded with go:embed, given with WithSchema and
// looked up with LookupOnly: the way for production, the Go type checked
// against the schema at start), from a Go struct (Derive, the default for
// a struct T, registered with the default AutoRegister: the way for
// development), or from the registry (UseLatest, PinnedID). T may also be
// map[string]any for generic records.
//
// What it does not do: it does not create topics or subjects' compatibility
// settings (see the topics package and the registry's own API through
// Registry.Client), and it does not cache a subject's latest version beyond
// the first use by a Serde, so a Serde built with UseLatest keeps writing
// with the version it first read until it is rebuilt.
package schema
