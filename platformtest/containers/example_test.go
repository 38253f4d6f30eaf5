package containers_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/platformtest/containers"
)

// Start runs Kafka and the schema registry in containers on a Docker
// Engine, and removes them on Close. Without an engine it fails with
// platformtest.ErrUnavailable, on which StartT skips a test.
func ExampleStart() {
	ctx := context.Background()
	p, err := containers.Start(ctx,
		containers.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry),
		containers.WithLabels(map[string]string{"ci-job": "1234"}))
	if errors.Is(err, platformtest.ErrUnavailable) {
		fmt.Println("no Docker Engine:", err)
		return
	}
	if err != nil {
		panic(err)
	}
	defer p.Close() // removes the containers and their network

	fmt.Println(p.Backend, p.Brokers, p.ContainerBrokers, p.SchemaRegistryURL)
}
