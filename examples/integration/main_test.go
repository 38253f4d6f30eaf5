package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/platformtest/containers"
	"github.com/streamkit/streamkit/platformtest/embedded"
	"github.com/streamkit/streamkit/schema"
)

// pricerImage is the repository of the image TestIntegrationPricerContainer
// builds; each run tags it uniquely and removes it at the end.
const pricerImage = "streamkit-example/pricer"

func TestPrice(t *testing.T) {
	tests := []struct {
		name  string
		order Order
		want  Price
	}{
		{
			name: "below the discount",
			order: Order{ID: "o-1", Currency: "EUR", Lines: []Line{
				{SKU: "coffee", Quantity: 2, UnitPriceCents: 1899},
				{SKU: "mug", Quantity: 1, UnitPriceCents: 799},
			}},
			want: Price{OrderID: "o-1", Currency: "EUR", Items: 3, SubtotalCents: 4597, TotalCents: 4597},
		},
		{
			name:  "exactly at the discount",
			order: Order{ID: "o-2", Currency: "EUR", Lines: []Line{{SKU: "grinder", Quantity: 1, UnitPriceCents: 10000}}},
			want:  Price{OrderID: "o-2", Currency: "EUR", Items: 1, SubtotalCents: 10000, DiscountCents: 1000, TotalCents: 9000},
		},
		{
			name:  "discount rounds down",
			order: Order{ID: "o-3", Currency: "EUR", Lines: []Line{{SKU: "tea", Quantity: 3, UnitPriceCents: 3333}}},
			want:  Price{OrderID: "o-3", Currency: "EUR", Items: 3, SubtotalCents: 9999, TotalCents: 9999},
		},
		{
			name:  "free line",
			order: Order{ID: "o-4", Currency: "EUR", Lines: []Line{{SKU: "sample", Quantity: 5, UnitPriceCents: 0}}},
			want:  Price{OrderID: "o-4", Currency: "EUR", Items: 5},
		},
		{
			name:  "no lines",
			order: Order{ID: "o-5", Currency: "EUR"},
			want:  Price{OrderID: "o-5", Currency: "EUR", Rejected: "no lines"},
		},
		{
			name:  "zero quantity",
			order: Order{ID: "o-6", Currency: "EUR", Lines: []Line{{SKU: "a", Quantity: 1, UnitPriceCents: 1}, {SKU: "b", Quantity: 0, UnitPriceCents: 1}}},
			want:  Price{OrderID: "o-6", Currency: "EUR", Rejected: "line 1 (b): quantity 0"},
		},
		{
			name:  "negative price",
			order: Order{ID: "o-7", Currency: "EUR", Lines: []Line{{SKU: "a", Quantity: 1, UnitPriceCents: -5}}},
			want:  Price{OrderID: "o-7", Currency: "EUR", Rejected: "line 0 (a): unit price -5"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := price(tt.order); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	env := map[string]string{
		envBrokers:     "k1:9092, k2:9092,",
		envRegistryURL: "http://registry:8080/apis/ccompat/v7/",
		envOutputTopic: "prices.from.env",
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    config // compared without its logger
		wantErr string // a fragment of the error; "" for none
	}{
		{
			name: "environment and defaults",
			env:  env,
			want: config{
				brokers: []string{"k1:9092", "k2:9092"}, registryURL: "http://registry:8080/apis/ccompat/v7",
				inputTopic: "retail.carts.v1", outputTopic: "prices.from.env", dlq: "retail.carts.v1.dlq",
				group: "retail-order-pricer", shutdownTimeout: 30 * time.Second,
			},
		},
		{
			name: "flags override the environment",
			args: []string{"-brokers", "k3:9092", "-input-topic", "in", "-output-topic", "out", "-dlq", "bad", "-group", "g", "-shutdown-timeout", "5s"},
			env:  env,
			want: config{
				brokers: []string{"k3:9092"}, registryURL: "http://registry:8080/apis/ccompat/v7",
				inputTopic: "in", outputTopic: "out", dlq: "bad", group: "g", shutdownTimeout: 5 * time.Second,
			},
		},
		{
			name: "register for development",
			args: []string{"-register"},
			env:  env,
			want: config{
				brokers: []string{"k1:9092", "k2:9092"}, registryURL: "http://registry:8080/apis/ccompat/v7",
				inputTopic: "retail.carts.v1", outputTopic: "prices.from.env", dlq: "retail.carts.v1.dlq",
				group: "retail-order-pricer", shutdownTimeout: 30 * time.Second, register: true,
			},
		},
		{name: "bad register variable", env: map[string]string{envRegister: "maybe"}, wantErr: envRegister},
		{name: "nothing set", wantErr: "no brokers: set -brokers or STREAMKIT_BROKERS"},
		{name: "no registry", args: []string{"-brokers", "k:9092"}, wantErr: "no schema registry"},
		{name: "same topics", args: []string{"-input-topic", "x", "-output-topic", "x"}, env: env, wantErr: `input and output topic are both "x"`},
		{name: "bad timeout variable", env: map[string]string{envShutdownTimeout: "soon"}, wantErr: envShutdownTimeout},
		{name: "zero timeout", args: []string{"-shutdown-timeout", "0s"}, env: env, wantErr: "must be positive"},
		{name: "stray argument", args: []string{"now"}, env: env, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.logger = nil
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestPricerNeedsItsSchema: before the team's CI has registered
// price.avsc, the service stops at start, having read nothing.
func TestPricerNeedsItsSchema(t *testing.T) {
	p := embedded.StartT(t)
	topics := newTopics()
	platformtest.CreateTopicsT(t, p.Clients.Admin, 3, topics.in, topics.out, topics.dlq)
	err := run(t.Context(), config{brokers: p.Brokers, registryURL: p.SchemaRegistryURL,
		inputTopic: topics.in, outputTopic: topics.out, dlq: topics.dlq, group: topics.group, shutdownTimeout: time.Second})
	if !errors.Is(err, schema.ErrNotRegistered) {
		t.Fatalf("run: %v, want schema.ErrNotRegistered", err)
	}
}

// TestPricerEmbedded runs the service in this process against kfake and
// srfake: no Docker, no platform, a few seconds.
func TestPricerEmbedded(t *testing.T) {
	p := embedded.StartT(t)
	testPricerInProcess(t, p)
}

// TestIntegrationPricer runs the service in this process against Kafka and
// the schema registry in Docker containers.
func TestIntegrationPricer(t *testing.T) {
	p := containers.StartT(t, containers.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry))
	testPricerInProcess(t, p)
}

// TestIntegrationPricerExternal runs the same test against the platform
// the environment names (scripts/platform's three Kafka nodes in this
// project's CI): one test body, whichever platform a team's CI has.
func TestIntegrationPricerExternal(t *testing.T) {
	p := platformtest.StartT(t, platformtest.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry))
	testPricerInProcess(t, p)
}

// testPricerInProcess runs the service in a goroutine, feeds it orders and
// one record that is not Avro, checks every price and the dead letter, then
// stops it and checks it exited cleanly with every offset committed.
func testPricerInProcess(t *testing.T, p *platformtest.Platform) {
	topics := newTopics()
	platformtest.CreateTopicsT(t, p.Clients.Admin, 3, topics.in, topics.out, topics.dlq)
	registerPrice(t, p, topics.out)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = run(ctx, config{
			brokers: p.Brokers, registryURL: p.SchemaRegistryURL,
			inputTopic: topics.in, outputTopic: topics.out, dlq: topics.dlq, group: topics.group,
			shutdownTimeout: 30 * time.Second,
			logger:          slog.New(slog.NewTextHandler(t.Output(), nil)),
		})
	}()
	// Whatever happens below, the service stops before the test (and the
	// platform, whose cleanup was registered earlier) ends.
	t.Cleanup(func() { cancel(); <-done })

	orders := testOrders(20)
	produceOrders(t, p, topics.in, orders)
	corrupt := &kgo.Record{Topic: topics.in, Key: []byte("not-avro"), Value: []byte(`{"id":"o-json"}`)}
	if err := p.Clients.Kafka.ProduceSync(context.Background(), corrupt).FirstErr(); err != nil {
		t.Fatal(err)
	}

	checkPrices(t, orders, readPrices(t, p, topics.out, len(orders)))
	if dead := readRaw(t, p.Brokers, topics.dlq, 1); string(dead[0].Key) != "not-avro" {
		t.Errorf("dead letter key: got %q, want %q", dead[0].Key, "not-avro")
	}

	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the service did not stop within a minute of its context ending")
	}
	if runErr != nil {
		t.Fatalf("the service exited with %v, want a clean shutdown", runErr)
	}
	checkCommitted(t, p.Clients.Admin, topics.group, topics.in)
}

// TestIntegrationPricerContainer builds the service into an image and runs
// it as a container on the platform's Docker network, as it is deployed:
// it reaches Kafka and the registry by their network aliases
// (p.ContainerBrokers, p.ContainerSchemaRegistryURL), while this test
// produces and reads through the ports mapped to this machine.
//
// Docker is checked by StartT: without it the test skips, or fails under
// STREAMKIT_REQUIRE_PLATFORM=1, before anything is built.
func TestIntegrationPricerContainer(t *testing.T) {
	p := containers.StartT(t, containers.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry))
	topics := newTopics()
	platformtest.CreateTopicsT(t, p.Clients.Admin, 3, topics.in, topics.out, topics.dlq)
	registerPrice(t, p, topics.out)

	dir := buildContext(t)
	ref := pricerImage + ":" + platformtest.UniqueName("test")
	repo, tag, _ := strings.Cut(ref, ":")
	removeImageAtEnd(t, ref)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := testcontainers.Run(ctx, "",
		testcontainers.WithDockerfile(testcontainers.FromDockerfile{Context: dir, Repo: repo, Tag: tag}),
		network.WithNetworkName([]string{"pricer"}, p.ContainerNetwork),
		// The platform's labels: leftovers are found with its own.
		testcontainers.WithLabels(p.ContainerLabels),
		testcontainers.WithEnv(map[string]string{
			envBrokers:     strings.Join(p.ContainerBrokers, ","),
			envRegistryURL: p.ContainerSchemaRegistryURL,
			envInputTopic:  topics.in,
			envOutputTopic: topics.out,
			envDLQTopic:    topics.dlq,
			envGroup:       topics.group,
		}),
		testcontainers.WithWaitStrategy(wait.ForLog("pricing orders").WithStartupTimeout(time.Minute)),
	)
	// Registered before the error check: a container that was created but
	// did not get ready is removed too, with the image built for it.
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatalf("start the pricer container: %v\n%s", err, containerLog(c))
	}
	// Runs before CleanupContainer's removal, while the log still exists.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the pricer container's log:\n%s", containerLog(c))
		}
	})

	orders := testOrders(20)
	produceOrders(t, p, topics.in, orders)
	checkPrices(t, orders, readPrices(t, p, topics.out, len(orders)))

	// Stop sends SIGTERM, as an orchestrator does; the service must commit
	// and exit 0 well within the grace period.
	grace := 30 * time.Second
	if err := c.Stop(ctx, &grace); err != nil {
		t.Fatalf("stop the pricer container: %v", err)
	}
	st, err := c.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ExitCode != 0 {
		t.Fatalf("the pricer container exited with %d, want 0 after SIGTERM", st.ExitCode)
	}
	checkCommitted(t, p.Clients.Admin, topics.group, topics.in)
}

// buildContext builds the service as a static Linux binary and writes a
// Dockerfile that copies it into an empty image, both into a temporary
// folder, and returns the folder.
func buildContext(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// The package under test is the test's working directory.
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "pricer"), ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dockerfile := "FROM scratch\nCOPY pricer /pricer\nENTRYPOINT [\"/pricer\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// removeImageAtEnd removes the image ref when the test ends, unless it is
// gone already. Terminating the container removes the image it was built
// for; this covers an image that was built but whose container could not
// be created, which testcontainers leaves behind.
func removeImageAtEnd(t *testing.T, ref string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cli, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			t.Errorf("remove image %s: %v", ref, err)
			return
		}
		defer cli.Close()
		_, err = cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		if err != nil && !errdefs.IsNotFound(err) {
			t.Errorf("remove image %s: %v", ref, err)
		}
	})
}

// containerLog returns what c wrote, or why it cannot be read.
func containerLog(c *testcontainers.DockerContainer) string {
	if c == nil {
		return "(no container)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := c.Logs(ctx)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Sprintf("(log cut short: %v)\n%s", err, b)
	}
	return string(b)
}

// pricerTopics are one test's topics and group, unique so tests never see
// each other's records even on a shared, long-lived platform.
type pricerTopics struct{ in, out, dlq, group string }

// registerPrice registers schemas/price.avsc under topic's subject, as the
// team's CI does before the service is deployed: the service only looks
// it up.
func registerPrice(t *testing.T, p *platformtest.Platform, topic string) {
	t.Helper()
	price, err := schema.ParseFS(schemas, "schemas/price.avsc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Clients.Registry.Register(t.Context(), topic+"-value", price); err != nil {
		t.Fatalf("register the price schema: %v", err)
	}
}

func newTopics() pricerTopics {
	in := platformtest.UniqueName("retail.orders")
	return pricerTopics{in: in, out: platformtest.UniqueName("retail.prices"), dlq: in + ".dlq", group: platformtest.UniqueName("pricer")}
}

// testOrders returns n orders; every fifth has an empty line and is
// rejected, and the larger ones get the discount.
func testOrders(n int) []Order {
	orders := make([]Order, n)
	for i := range orders {
		o := Order{ID: fmt.Sprintf("o-%04d", i), Customer: fmt.Sprintf("c-%d", i%3), Currency: "EUR", Lines: []Line{
			{SKU: "coffee-1kg", Quantity: int32(1 + i%8), UnitPriceCents: 1899},
			{SKU: "mug-white", Quantity: 1, UnitPriceCents: 799},
		}}
		if i%5 == 4 {
			o.Lines = append(o.Lines, Line{SKU: "gift-card", Quantity: 0, UnitPriceCents: 2500})
		}
		orders[i] = o
	}
	return orders
}

// produceOrders writes orders, keyed by ID, as the shop's checkout would.
func produceOrders(t *testing.T, p *platformtest.Platform, topic string, orders []Order) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	orderAvro, err := schema.ParseFS(schemas, "schemas/order.avsc")
	if err != nil {
		t.Fatal(err)
	}
	producer, err := schema.NewProducer[Order](ctx, p.Clients.Registry, topic,
		schema.WithSchema(orderAvro), schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close(ctx)
	msgs := make([]schema.Message[Order], len(orders))
	for i, o := range orders {
		msgs[i] = schema.Message[Order]{Key: []byte(o.ID), Value: o}
	}
	if err := producer.ProduceSync(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

// readPrices reads topic from the start as a group of its own until it has
// the prices of n distinct orders, and returns them by order ID. A price
// read twice (at least once allows it) must be the same both times.
func readPrices(t *testing.T, p *platformtest.Platform, topic string, n int) map[string]Price {
	t.Helper()
	priceAvro, err := schema.ParseFS(schemas, "schemas/price.avsc")
	if err != nil {
		t.Fatal(err)
	}
	consumer, err := schema.NewConsumer[Price](t.Context(), p.Clients.Registry, platformtest.UniqueName("pricer-test-reader"), []string{topic},
		schema.WithSchema(priceAvro), schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	got := map[string]Price{}
	for len(got) < n {
		recs, err := consumer.Poll(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read the prices of %d of %d orders from %s", len(got), n, topic)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if string(r.Key) != r.Value.OrderID {
				t.Errorf("price of %s has key %q, want the order ID", r.Value.OrderID, r.Key)
			}
			if prev, ok := got[r.Value.OrderID]; ok && prev != r.Value {
				t.Errorf("order %s priced twice, differently: %+v and %+v", r.Value.OrderID, prev, r.Value)
			}
			got[r.Value.OrderID] = r.Value
		}
	}
	return got
}

// checkPrices checks that every order got the price that price gives it;
// TestPrice checks price itself.
func checkPrices(t *testing.T, orders []Order, got map[string]Price) {
	t.Helper()
	var discounted, rejected int
	for _, o := range orders {
		want := price(o)
		if got[o.ID] != want {
			t.Errorf("price of %s: got %+v, want %+v", o.ID, got[o.ID], want)
		}
		if want.DiscountCents > 0 {
			discounted++
		}
		if want.Rejected != "" {
			rejected++
		}
	}
	if len(got) != len(orders) {
		t.Errorf("got prices of %d orders, want %d", len(got), len(orders))
	}
	if discounted == 0 || rejected == 0 {
		t.Errorf("the test's orders should include discounted (%d) and rejected (%d) ones", discounted, rejected)
	}
}

// readRaw reads topic from the start until it has n records.
func readRaw(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records from %s", len(recs), n, topic)
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// checkCommitted checks that group has committed every partition of topic
// up to its end: after a clean shutdown nothing is left to process again.
func checkCommitted(t *testing.T, adm *kadm.Client, group, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(end kadm.ListedOffset) {
		c, ok := committed.Lookup(end.Topic, end.Partition)
		switch {
		case !ok && end.Offset > 0:
			t.Errorf("%s[%d]: nothing committed, want %d", end.Topic, end.Partition, end.Offset)
		case ok && c.At != end.Offset:
			t.Errorf("%s[%d]: committed %d, want the end offset %d", end.Topic, end.Partition, c.At, end.Offset)
		}
	})
}
