package validate_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/streamkit/streamkit/validate"
)

func ExampleValidate() {
	repo, _ := os.MkdirTemp("", "team-repo")
	defer os.RemoveAll(repo)
	_ = os.WriteFile(filepath.Join(repo, "pricing.jsonnet"), []byte(`local sk = import 'streamkit.libsonnet';
{
  topics: [sk.topic('pricing.orders.v1', partitions=6, replication=3)],
  connectors: [{
    name: 'pricing-db-source',
    config: {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'tasks.max': '1',
      'database.password': 'hunter2',
    },
  }],
}
`), 0o644)

	res, err := validate.Validate(context.Background(), validate.Options{Dir: repo},
		validate.Config{Policy: validate.Policy{Namespace: "pricing"}})
	if err != nil {
		panic(err)
	}
	fmt.Print(res.Text())
	fmt.Println("ok:", res.OK())
	// Output:
	// pricing.jsonnet:9:7: error CONN004: database.password holds a literal credential: reference it instead, e.g. ${vault:secret/data/<team>/<secret>:<key>} (connector pricing-db-source, database.password)
	// ok: false
}
