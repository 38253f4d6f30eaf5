package connect_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/streamkit/streamkit/connect"
)

// exampleWorker stands in for a Connect worker that runs one connector of
// the pricing team.
func exampleWorker() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"pricing-orders-sink": {
			"info": {"name": "pricing-orders-sink", "type": "sink", "tasks": [{"connector": "pricing-orders-sink", "task": 0}],
			         "config": {"name": "pricing-orders-sink", "connector.class": "FileStreamSink", "topics": "orders", "file": "/data/orders.txt", "tasks.max": "1"}},
			"status": {"name": "pricing-orders-sink", "type": "sink", "connector": {"state": "RUNNING", "worker_id": "w1"},
			           "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "w1"}]}},
		  "pricing-legacy": {
			"info": {"name": "pricing-legacy", "type": "source", "tasks": [], "config": {"name": "pricing-legacy", "connector.class": "FileStreamSource"}},
			"status": {"name": "pricing-legacy", "type": "source", "connector": {"state": "RUNNING", "worker_id": "w1"}, "tasks": []}}}`)
	}))
}

func ExampleClient_Plan() {
	worker := exampleWorker()
	defer worker.Close()
	c, err := connect.New(connect.WithURLs(worker.URL))
	if err != nil {
		panic(err)
	}
	desired := []connect.Spec{
		{Name: "pricing-orders-sink", Config: map[string]string{
			"connector.class": "FileStreamSink", "topics": "orders", "file": "/data/orders.txt", "tasks.max": "2",
		}},
		{Name: "pricing-db-source", Config: map[string]string{
			"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
			"database.hostname": "pricing-db",
			"database.user":     "pricing",
			"database.password": "${dir:/etc/kafka/secrets/pricing:db-password}",
			"topic.prefix":      "pricing",
		}},
	}
	plan, err := c.Plan(context.Background(), desired, connect.PlanOptions{Namespace: "pricing-", Prune: true})
	if err != nil {
		panic(err)
	}
	fmt.Print(plan)
	// Output:
	// connect plan for namespace "pricing-" (prune on)
	// + create pricing-db-source
	//     + connector.class = "io.debezium.connector.postgresql.PostgresConnector"
	//     + database.hostname = "pricing-db"
	//     + database.password = "${dir:/etc/kafka/secrets/pricing:db-password}"
	//     + database.user = "pricing"
	//     + topic.prefix = "pricing"
	// - delete pricing-legacy
	// ~ update pricing-orders-sink
	//     ~ tasks.max: "1" -> "2"
	// 1 to create, 1 to update, 1 to delete, 0 unchanged
}
