// Package metrics is the client side of streamkit's metrics: ClientMetrics
// counts what a service's Kafka clients and its schema Producers and
// Consumers do, for Prometheus.
//
//	m, err := metrics.NewClientMetrics()
//	if err != nil {
//		return err
//	}
//	http.Handle("/metrics", m.Handler())
//	p, err := schema.NewProducer[Order](ctx, reg, "orders",
//		schema.WithClientOpts(append(opts, m.KgoOpts()...)...),
//		schema.WithObserver(m))
//
// It imports no other streamkit package, so a service that hooks its
// clients compiles neither Avro nor the Connect and admin clients through
// it: ClientMetrics implements schema.Observer by its method set alone.
// The platform side (lag, throughput, storage, connector health, alerts,
// capacity) is package metrics/platform.
//
// It does not push metrics, and never registers on Prometheus' global
// registry.
package metrics
