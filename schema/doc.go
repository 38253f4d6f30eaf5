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
//		schema.OnInvalid(schema.DeadLetter("retail.orders.v1.dlq")))
//	recs, _ := c.Poll(ctx)
//	// ... process recs ...
//	c.MarkProcessed(recs...)
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
// CheckCompatibility checks a schema offline, and Registry.CheckCompatibility
// asks the registry, before anything is registered; both also refuse a
// decimal whose precision or scale changes, which Avro and the registry
// let through.
//
// Schemas come from a Go struct (Derive, the default for a struct T), an
// .avsc text or file (Parse, ParseFile), or the registry (UseLatest,
// PinnedID). T may also be map[string]any for generic records.
//
// What it does not do: it does not create topics or subjects' compatibility
// settings (see the topics package and the registry's own API through
// Registry.Client), and it does not cache a subject's latest version beyond
// the first use by a Serde, so a Serde built with UseLatest keeps writing
// with the version it first read until it is rebuilt.
package schema
