package containers_test

// Integration tests of the containers backend on a real Docker Engine.
// make test starts the engine, builds the images (scripts/containers) and
// runs these with STREAMKIT_REQUIRE_PLATFORM=1, so a missing engine fails
// them; without that variable they skip where no engine answers.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/platformtest/containers"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets/materialize"
)

// testLabel marks the containers of one test, to check that none is left.
const testLabel = "io.streamkit.platformtest.test"

type payment struct {
	ID       string  `avro:"id"`
	Account  string  `avro:"account"`
	Cents    int64   `avro:"cents"`
	Currency string  `avro:"currency"`
	Note     *string `avro:"note"`
}

// TestIntegrationContainersPlatform starts Kafka, the registry, Connect
// and Vault in containers through platformtest, and uses all four through
// the ready-made clients: an Avro round trip through the registry, a
// FileStream connector whose topic comes from a Vault secret by way of the
// worker's config provider, and Vault's KV store. It then closes the
// platform and checks that no container or network is left.
func TestIntegrationContainersPlatform(t *testing.T) {
	label := platformtest.UniqueName("platform")
	p := containers.StartT(t, containers.WithLabels(map[string]string{testLabel: label}))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	if p.Backend != platformtest.BackendContainers || p.ContainerNetwork == "" ||
		len(p.ContainerBrokers) != 1 || p.ContainerBrokers[0] != "kafka:9092" {
		t.Fatalf("platform: backend %v, network %q, container brokers %v", p.Backend, p.ContainerNetwork, p.ContainerBrokers)
	}
	if p.ContainerLabels[containers.Label] == "" || p.ContainerLabels[testLabel] != label {
		t.Errorf("container labels %v: want %s with the platform's id and %s=%s", p.ContainerLabels, containers.Label, testLabel, label)
	}
	c := p.Clients
	if c.Kafka == nil || c.Admin == nil || c.Registry == nil || c.Connect == nil || c.Vault == nil {
		t.Fatalf("clients missing: %+v", c)
	}
	if s := fmt.Sprint(p) + fmt.Sprintf("%#v", p); strings.Contains(s, p.VaultToken) {
		t.Errorf("the platform prints its Vault token: %s", s)
	}

	t.Run("AvroRoundTrip", func(t *testing.T) { avroRoundTrip(t, ctx, p) })
	t.Run("ConnectorWithVaultSecret", func(t *testing.T) { connectorWithVaultSecret(t, ctx, p) })

	shared := p.ConnectSharedDir
	if err := p.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	requireNoContainers(t, label)
	if _, err := os.Stat(shared); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("shared folder %s still there after Close: %v", shared, err)
	}
}

// avroRoundTrip produces typed records through the registry in the
// container and reads every one back; the registry runs on Kafka storage,
// which it reaches by the network alias.
func avroRoundTrip(t *testing.T, ctx context.Context, p *platformtest.Platform) {
	topic := platformtest.UniqueName("payments")
	if _, err := p.Clients.Admin.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	prod, err := schema.NewProducer[payment](ctx, p.Clients.Registry, topic, schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close(ctx)
	const n = 200
	want := make(map[string]payment, n)
	msgs := make([]schema.Message[payment], 0, n)
	for i := range n {
		note := fmt.Sprintf("note %d", i)
		v := payment{ID: fmt.Sprintf("pay-%03d", i), Account: fmt.Sprintf("acct-%d", i%7), Cents: int64(i) * 125, Currency: "EUR"}
		if i%2 == 0 {
			v.Note = &note
		}
		want[v.ID] = v
		msgs = append(msgs, schema.Message[payment]{Key: []byte(v.ID), Value: v})
	}
	if err := prod.ProduceSync(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	cons, err := schema.NewConsumer[payment](ctx, p.Clients.Registry, platformtest.UniqueName("payments-reader"), []string{topic},
		schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close(ctx)
	for len(want) > 0 {
		recs, err := cons.Poll(ctx)
		if err != nil {
			t.Fatalf("poll with %d records missing: %v", len(want), err)
		}
		for _, r := range recs {
			w, ok := want[r.Value.ID]
			if !ok {
				t.Fatalf("unexpected or repeated record %+v", r.Value)
			}
			if r.Value.Account != w.Account || r.Value.Cents != w.Cents || r.Value.Currency != w.Currency ||
				(r.Value.Note == nil) != (w.Note == nil) || (w.Note != nil && *r.Value.Note != *w.Note) {
				t.Fatalf("got %+v, want %+v", r.Value, w)
			}
			delete(want, r.Value.ID)
		}
		cons.MarkProcessed(recs...)
	}

	// The registry is a real one with Confluent's default compatibility.
	compat := p.Clients.Registry.Client().Compatibility(ctx)
	if len(compat) != 1 || compat[0].Err != nil || compat[0].Level != sr.CompatBackward {
		t.Errorf("global compatibility: got %+v, want BACKWARD", compat)
	}
	subjects, err := p.Clients.Registry.Client().Subjects(ctx)
	if err != nil || !slices.Contains(subjects, topic+"-value") {
		t.Errorf("subjects: got %v, %v, want %s-value among them", subjects, err, topic)
	}
}

// connectorWithVaultSecret deploys a FileStreamSource whose topic is a
// ${vault:...} reference: the Materializer writes the secret into the
// worker's secrets folder, the worker resolves it with its dir config
// provider, and the records reach the topic from the secret.
func connectorWithVaultSecret(t *testing.T, ctx context.Context, p *platformtest.Platform) {
	topic := platformtest.UniqueName("lines")
	if _, err := p.Clients.Admin.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	secretPath := platformtest.UniqueName("connect") + "/source"
	if _, err := p.Clients.Vault.API().KVv2("secret").Put(ctx, secretPath, map[string]any{"topic": topic}); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(p.ConnectSharedDir, "in.txt")
	lines := make([]string, 25)
	for i := range lines {
		lines[i] = fmt.Sprintf("line-%02d", i)
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	m, err := materialize.New(p.Clients.Vault, p.Clients.Connect, p.ConnectSecretsDir)
	if err != nil {
		t.Fatal(err)
	}
	ns := platformtest.UniqueName("it") + "-"
	name := ns + "file-source"
	specs := []connect.Spec{{Name: name, Config: map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
		"tasks.max":       "1",
		"file":            in,
		"topic":           "${vault:secret/data/" + secretPath + ":topic}",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
	}}}
	if _, err := m.Sync(ctx, specs); err != nil {
		t.Fatal(err)
	}
	deployed, err := m.TranslateSpecs(specs)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.Clients.Connect.Plan(ctx, deployed, connect.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plan.String(), topic) {
		t.Errorf("the plan holds the secret:\n%s", plan)
	}
	if _, err := p.Clients.Connect.Apply(ctx, plan, connect.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	readCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var got []string
	for len(got) < len(lines) {
		fs := cl.PollFetches(readCtx)
		if readCtx.Err() != nil {
			t.Fatalf("read %d of %d lines from %s: %v", len(got), len(lines), topic, readCtx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if strings.Join(got, ",") != strings.Join(lines, ",") {
		t.Errorf("got lines %v, want %v", got, lines)
	}
	// The image's worker has Apicurio's Avro converter, as the
	// platform's workers do.
	plugins, err := p.Clients.Connect.Plugins(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(plugins, func(pl connect.Plugin) bool {
		return pl.Class == "io.apicurio.registry.utils.converter.AvroConverter" && pl.Type == "converter"
	}) {
		t.Errorf("the worker lists no io.apicurio.registry.utils.converter.AvroConverter converter: %+v", plugins)
	}
	stored, err := p.Clients.Connect.Config(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprint(stored), topic) || !strings.HasPrefix(stored["topic"], "${dir:") {
		t.Errorf("stored config: got topic %q, want a ${dir:...} placeholder and no secret", stored["topic"])
	}
}

// TestIntegrationContainersCleanupOnFailure gives the Vault container an
// image that cannot run `server`: Start fails with a *containers.Error for
// Vault and removes the Kafka container it had started beside it.
func TestIntegrationContainersCleanupOnFailure(t *testing.T) {
	label := platformtest.UniqueName("failure")
	kafkaImage := os.Getenv(containers.EnvKafkaImage)
	if kafkaImage == "" {
		kafkaImage = containers.DefaultKafkaImage
	}
	p, err := containers.Start(context.Background(), containers.WithComponents(platformtest.Kafka, platformtest.Vault),
		containers.WithVaultImage(kafkaImage), containers.WithLabels(map[string]string{testLabel: label}))
	if errors.Is(err, platformtest.ErrUnavailable) {
		platformtest.SkipOrFail(t, err.Error())
	}
	var ce *containers.Error
	if p != nil || !errors.As(err, &ce) || ce.Component != platformtest.Vault {
		t.Fatalf("got %v, %v; want a *containers.Error for vault", p, err)
	}
	requireNoContainers(t, label)
}

// TestIntegrationContainersCleanupOnPanic runs a test that panics after
// StartT in a child process, and checks that the child removed its
// containers on the way out.
func TestIntegrationContainersCleanupOnPanic(t *testing.T) {
	if label := os.Getenv("STREAMKIT_PLATFORMTEST_PANIC_LABEL"); label != "" {
		p := containers.StartT(t, containers.WithLabels(map[string]string{testLabel: label}),
			containers.WithComponents(platformtest.Kafka))
		if p != nil {
			panic("a test panics with its platform running")
		}
		return
	}
	label := platformtest.UniqueName("panic")
	cmd := exec.Command(os.Args[0], "-test.run=^TestIntegrationContainersCleanupOnPanic$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "STREAMKIT_PLATFORMTEST_PANIC_LABEL="+label)
	out, err := cmd.CombinedOutput()
	if i := strings.Index(string(out), platformtest.ErrUnavailable.Error()); i >= 0 {
		line, _, _ := strings.Cut(string(out[i:]), "\n")
		platformtest.SkipOrFail(t, line)
	}
	if err == nil || !strings.Contains(string(out), "a test panics with its platform running") {
		t.Fatalf("child: got %v, want a panic; output:\n%s", err, out)
	}
	requireNoContainers(t, label)
}

// requireNoContainers fails t when a container or network with the test
// label label exists.
func requireNoContainers(t *testing.T, label string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dc, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	filter := client.Filters{}.Add("label", testLabel+"="+label)
	cs, err := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs.Items {
		t.Errorf("container left behind: %s %v %s", c.ID[:12], c.Names, c.State)
	}
	ns, err := dc.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns.Items {
		t.Errorf("network left behind: %s", n.Name)
	}
}
