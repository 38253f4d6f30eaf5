// Package streamkit is a Go SDK for teams that build streaming applications
// on a self-managed Apache Kafka platform: Kafka brokers, Kafka Connect, a
// Confluent-compatible schema registry and HashiCorp Vault.
//
// Teams own their producers, consumers, connectors, topics and schemas in
// their own repositories. streamkit turns that ownership into code that is
// checked before it is deployed, keeps credentials out of people's hands and
// out of configs, and makes the platform observable by the teams that use it.
//
// # Two planes
//
// The control plane is declarative. A team's repository holds jsonnet
// manifests and Avro schemas; they flow through three steps:
//
//	validate  ->  plan  ->  apply
//
// The validate package evaluates the manifests, decodes them into the typed
// desired state that the resource packages own, and reports every problem
// with its file:line:col, including what the Connect worker itself says of a
// connector config. Each resource package then offers Plan, which compares
// the desired state with the live platform and prints as a readable diff,
// and Apply, which is idempotent: a second plan after an apply is empty.
// Nothing is deleted unless the caller asks for pruning, and then only inside
// the team's own namespace.
//
// The data plane is what a service runs: typed producers and consumers over
// franz-go that speak Avro in the Confluent wire format, with schema IDs
// cached so the hot path makes no registry calls, credentials supplied by
// Vault, and client metrics for Prometheus.
//
// # Packages
//
//   - connect: a Kafka Connect REST client, connectors as code (plan, apply,
//     prune), restart of failed connectors and tasks, an auto-heal loop.
//   - topics: topics and ACLs as code on franz-go's kadm, configuration drift,
//     housekeeping and consumer lag.
//   - schema: subject strategies, compatibility checks, Avro serde and typed
//     Producer[T] and Consumer[T] with dead-letter handling.
//   - secrets: Vault authentication, KV reads and renewal, ${vault:...}
//     references, and redaction of secret values.
//   - validate: jsonnet manifests, rules and findings with positions.
//   - metrics: client hooks, a platform collector, Prometheus exposition,
//     alert rules and capacity trends.
//   - platformtest: the platform for integration tests, read from the
//     environment or started in-process; no runtime package imports it.
//   - examples: runnable programs a team copies, starting with quickstart.
//
// Runtime packages never read the environment on their own; options such as
// WithEnvironment say which variables they read. The variables that point at
// a platform are STREAMKIT_BROKERS, STREAMKIT_SCHEMA_REGISTRY_URL,
// STREAMKIT_CONNECT_URL, VAULT_ADDR and VAULT_TOKEN.
//
// This root package holds documentation only.
package streamkit
