// Package pipelines holds the integration tests of the seed's pipelines
// on the real platform, both directions through Kafka Connect with Avro in
// the Confluent wire format: a Debezium PostgreSQL source read by a Go
// service with schema.Consumer, and a Go schema.Producer written to
// PostgreSQL by Debezium's JDBC sink. It has no code of its own.
package pipelines
