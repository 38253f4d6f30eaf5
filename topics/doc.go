// Package topics makes a Kafka cluster's topics and ACLs declarative, and
// reports what to clean up and how far consumers lag, on franz-go's kadm.
//
//	c, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers("kafka-1:9092")})
//	specs := []topics.Spec{{Name: "pricing.orders.v1", Partitions: 6, ReplicationFactor: 3,
//		Configs: map[string]string{"retention.ms": "604800000", "min.insync.replicas": "2"}}}
//	if err := topics.CheckPolicy(policy, specs...); err != nil { ... } // in CI
//	plan, err := c.Plan(ctx, specs, topics.PlanOptions{Namespace: "pricing."})
//	fmt.Print(plan)
//	_, err = c.Apply(ctx, plan, topics.ApplyOptions{})
//
// How the parts fit: Plan reads the cluster with a fixed number of requests
// whatever the number of topics and diffs it with the desired Specs,
// comparing only topic-level (dynamic) configs so broker defaults never
// show as drift; Apply makes the changes Kafka allows (create, grow
// partitions, alter drifted configs incrementally, raise replication by
// reassignment) and refuses the rest with an explanation. Prune deletes only
// inside the namespace, and a topic with recent writes or consumer groups
// only with Force. Grants expand roles (producer, consumer, admin) into ACL
// bindings that PlanACLs and ApplyACLs manage the same way; a team's
// roles (TeamRole: owner, deployer, service, reader) expand into ACLs
// prefixed by its namespace, and SetSCRAM sets a principal's credential.
// A Client from NewFromOptions fails a request with an *AuthError as soon
// as a broker refuses its credentials or certificate. Housekeeping
// reports idle topics, orphaned and dead groups, retention over policy and
// storage cost, and acts only when asked; Lag reports consumer lag in
// records and in time.
//
// What it does not do: it does not decrease partitions or replication (Kafka
// cannot, or should not be made to, as code), it does not manage broker
// configs or quotas, and it cannot give a team the right to create ACLs or
// credentials for its prefix only: Kafka ties both to ALTER on the whole
// cluster, which stays with the platform's administrator.
package topics
