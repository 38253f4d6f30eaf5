// Package connect manages Kafka Connect from a team's own repository: a
// REST client for the whole Connect API, connectors as code (plan, apply,
// prune inside the team's namespace), and restarts of failed connectors
// and tasks, by hand or by an auto-heal loop.
//
//	c, err := connect.New(connect.WithURLs("http://connect-1:8083", "http://connect-2:8083"))
//	plan, err := c.Plan(ctx, []connect.Spec{{
//		Name:   "pricing-db-source",
//		Config: map[string]string{"connector.class": "...", "database.password": "${dir:/etc/kafka/secrets/pricing:db-password}"},
//	}}, connect.PlanOptions{Namespace: "pricing-", Prune: true})
//	fmt.Print(plan) // review it: credentials are redacted, placeholders shown
//	_, err = c.Apply(ctx, plan, connect.ApplyOptions{})
//
// How the parts fit: Client is the REST client; every call retries 409s of
// a rebalancing worker and 5xx with backoff and jitter and fails over
// between workers. Plan reads every connector with one listing request and
// diffs it against the desired Specs, ignoring what the worker adds to a
// stored config, so a plan right after an Apply is empty. Apply has the
// worker validate every changed config before it writes anything, writes
// each change idempotently, and waits until the changed connectors and
// their tasks run. RestartFailed and Healer restart only what FAILED.
//
// What it does not do: it never resolves config-provider placeholders
// (${dir:...}, ${file:...}, ${vault:...}); the workers' config providers
// do, so secrets stay on the connector nodes and out of connector configs
// and plans. It does not manage the workers or their plugins.
package connect
