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
// # Layers
//
// Each layer imports only the layers below it; TestLayers (layers_test.go)
// fails the build when a package imports across or up a layer, and when a
// package outside platformtest links testcontainers, Docker, the
// in-process fakes or package testing.
//
//  0. Plumbing, internal/...: HTTP retry backoff, redaction, ${vault:...}
//     references, run loops, config diffs, the Avro seam.
//  1. Clients, each on its own: connect (Kafka Connect REST, connectors as
//     code, restart and auto-heal), topics (topics and ACLs as code on
//     kadm, housekeeping, lag), schema (registry-aware Avro, typed
//     Producer[T] and Consumer[T]), secrets (Vault auth, KV, renewal,
//     credentials for clients), metrics (client hooks for Prometheus). A
//     service that imports only schema, only secrets or only metrics
//     compiles none of the others.
//  2. Composers: validate (jsonnet manifests, rules, live checks),
//     metrics/platform (the platform collector, alerts, capacity),
//     secrets/materialize (Vault secrets on the Connect nodes).
//  3. Programs and test support: cmd/streamkit, examples/..., and
//     platformtest/... (the platform for integration tests: the
//     environment's, Docker containers, or in-process fakes, each in a
//     package of its own so that each pulls only its own dependencies).
//
// # One way to construct
//
// Constructors are New...(required dependencies, opts...). Options are
// sealed types per constructor (ClientOpt, HealerOpt, ProducerOpt, ...),
// so the compiler refuses an option of another; an option that several
// constructors take is each of their types. The same things have the same
// names everywhere: WithLogger, WithInterval, WithEvents, WithBackoff,
// WithEnvironment. Every option is validated in the constructor, and every
// background loop is a Run(ctx) that returns when ctx ends, admits one
// Run at a time (ErrRunning otherwise) and survives a panicking callback.
//
// Runtime packages never read the environment on their own; options such as
// WithEnvironment say which variables they read. The variables that point at
// a platform are STREAMKIT_BROKERS, STREAMKIT_SCHEMA_REGISTRY_URL,
// STREAMKIT_CONNECT_URL, VAULT_ADDR and VAULT_TOKEN.
//
// This root package holds documentation only.
package streamkit
