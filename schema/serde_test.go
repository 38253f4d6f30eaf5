package schema

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/internal/avrocodec"
)

func TestSerdeRoundTripAndWireFormat(t *testing.T) {
	ctx := context.Background()
	reg, _, ct := newFakeRegistry(t)
	s, err := NewSerde[orderV2](reg, WithSchema(mustParse(t, orderV2Schema)))
	if err != nil {
		t.Fatal(err)
	}
	in := orderV2{ID: "o-1", Quantity: 3, Currency: "USD"}

	prefix := []byte("keep")
	b, err := s.AppendEncode(ctx, prefix, "orders", in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("keep")) {
		t.Fatalf("AppendEncode did not keep the caller's bytes: %q", b[:4])
	}
	wire := b[4:]
	id, err := SchemaID(wire)
	if err != nil {
		t.Fatal(err)
	}
	if wire[0] != 0 || int(binary.BigEndian.Uint32(wire[1:5])) != id || id <= 0 {
		t.Fatalf("header %x: want magic 0 and a positive big-endian id", wire[:5])
	}
	body, err := avrocodec.AppendEncode(nil, nil, mustParse(t, orderV2Schema).parsed, in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wire[5:], body) {
		t.Fatalf("body %x, want plain avro binary %x", wire[5:], body)
	}

	var out orderV2
	if err := s.Decode(ctx, wire, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("got %+v, want %+v", out, in)
	}

	// Warm: no registry call for encoding or decoding again.
	before := ct.total.Load()
	for i := 0; i < 100; i++ {
		if _, err := s.Encode(ctx, "orders", in); err != nil {
			t.Fatal(err)
		}
		if err := s.Decode(ctx, wire, &out); err != nil {
			t.Fatal(err)
		}
	}
	if got := ct.total.Load() - before; got != 0 {
		t.Fatalf("hot path made %d registry calls, want 0", got)
	}
	if got := ct.count("POST /subjects/orders-value/versions"); got != 1 {
		t.Fatalf("registered %d times, want 1", got)
	}
}

func TestSerdeDerivedSchemaByDefault(t *testing.T) {
	ctx := context.Background()
	reg, _, _ := newFakeRegistry(t)
	s, err := NewSerde[orderV1](reg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Schema() == nil || s.Schema().FullName() != "orderV1" {
		t.Fatalf("derived schema %v, want a record named orderV1", s.Schema())
	}
	b, err := s.Encode(ctx, "t", orderV1{ID: "x", Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	var out orderV1
	if err := s.Decode(ctx, b, &out); err != nil || out.ID != "x" {
		t.Fatalf("got %+v, %v", out, err)
	}
}

func TestSerdeGenericRecords(t *testing.T) {
	ctx := context.Background()
	reg, _, _ := newFakeRegistry(t)
	if _, err := NewSerde[map[string]any](reg); err == nil {
		t.Fatal("a generic serde without a schema under auto-register should be refused")
	}
	s, err := NewSerde[map[string]any](reg, WithSchema(mustParse(t, orderV2Schema)))
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"id": "g-1", "quantity": int32(7), "currency": "EUR"}
	b, err := s.Encode(ctx, "generic", in)
	if err != nil {
		t.Fatal(err)
	}
	// A typed serde reads what the generic one wrote, and back.
	typed, err := NewSerde[orderV2](reg, WithSchema(mustParse(t, orderV2Schema)))
	if err != nil {
		t.Fatal(err)
	}
	var o orderV2
	if err := typed.Decode(ctx, b, &o); err != nil || o != (orderV2{"g-1", 7, "EUR"}) {
		t.Fatalf("typed decode of generic record: %+v, %v", o, err)
	}
	// A generic consumer with no schema reads with the writer's.
	reader, err := NewSerde[map[string]any](reg, WithRegistration(UseLatest()))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := reader.Decode(ctx, b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, map[string]any{"id": "g-1", "quantity": 7, "currency": "EUR"}) {
		t.Fatalf("got %#v", out)
	}
}

func TestSerdeEvolution(t *testing.T) {
	ctx := context.Background()
	reg, _, _ := newFakeRegistry(t)
	w1, err := NewSerde[orderV1](reg, WithSchema(mustParse(t, orderV1Schema)))
	if err != nil {
		t.Fatal(err)
	}
	w2, err := NewSerde[orderV2](reg, WithSchema(mustParse(t, orderV2Schema)))
	if err != nil {
		t.Fatal(err)
	}
	v1Bytes, err := w1.Encode(ctx, "evo", orderV1{ID: "a", Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	v2Bytes, err := w2.Encode(ctx, "evo", orderV2{ID: "b", Quantity: 2, Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("v2 reader reads v1 with the default", func(t *testing.T) {
		var o orderV2
		if err := w2.Decode(ctx, v1Bytes, &o); err != nil {
			t.Fatal(err)
		}
		if want := (orderV2{"a", 1, "EUR"}); o != want {
			t.Fatalf("got %+v, want %+v", o, want)
		}
	})
	t.Run("v1 reader reads v2 and drops the new field", func(t *testing.T) {
		var o orderV1
		if err := w1.Decode(ctx, v2Bytes, &o); err != nil {
			t.Fatal(err)
		}
		if want := (orderV1{"b", 2}); o != want {
			t.Fatalf("got %+v, want %+v", o, want)
		}
	})
}

// A reader type one field ahead of the writer, without a default, and
// with one (a pointer: null).
type (
	orderWithStore struct {
		ID       string `avro:"id"`
		Quantity int32  `avro:"quantity"`
		Store    string `avro:"store"`
	}
	orderWithOptionalStore struct {
		ID       string  `avro:"id"`
		Quantity int32   `avro:"quantity"`
		Store    *string `avro:"store"`
	}
	lineOf[T any] struct {
		Order T `avro:"order"`
	}
)

// TestSerdeDerivedReaderNeedsDefaults: a Go type read without WithSchema
// is refused, as CheckCompatibility refuses its schema, when it has a
// field the writer lacks and no default for it, at the top or nested;
// with a default (a pointer field) the field reads as null.
func TestSerdeDerivedReaderNeedsDefaults(t *testing.T) {
	ctx := context.Background()
	reg, _, _ := newFakeRegistry(t)
	w, err := NewSerde[orderV1](reg, WithSchema(mustParse(t, orderV1Schema)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := w.Encode(ctx, "orders", orderV1{ID: "a", Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	strict, err := NewSerde[orderWithStore](reg, AnyRecordName())
	if err != nil {
		t.Fatal(err)
	}
	var o orderWithStore
	err = strict.Decode(ctx, data, &o)
	if !errors.Is(err, ErrIncompatible) || !Permanent(err) || !strings.Contains(err.Error(), "no field store") {
		t.Fatalf("decode into a field without a default: got %v, want ErrIncompatible naming store", err)
	}
	{
		// The same type under the writer's record name, so that only the
		// field differs.
		type Order orderWithStore
		err := CheckCompatibility(Backward, mustDerive[Order](t), mustParse(t, orderV1Schema))
		if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), "store") {
			t.Fatalf("CheckCompatibility of the same reader: %v, want ErrIncompatible naming store", err)
		}
	}

	optional, err := NewSerde[orderWithOptionalStore](reg, AnyRecordName())
	if err != nil {
		t.Fatal(err)
	}
	var oo orderWithOptionalStore
	if err := optional.Decode(ctx, data, &oo); err != nil || oo.ID != "a" || oo.Store != nil {
		t.Fatalf("decode into a pointer field: %+v, %v; want the order and a nil store", oo, err)
	}
	{
		type Order orderWithOptionalStore
		if err := CheckCompatibility(Backward, mustDerive[Order](t), mustParse(t, orderV1Schema)); err != nil {
			t.Fatalf("CheckCompatibility of the pointer reader: %v", err)
		}
	}

	// Nested: a line holding an order.
	lw, err := NewSerde[lineOf[orderV1]](reg, WithSchema(mustParse(t, `{"type":"record","name":"Line","fields":[
		{"name":"order","type":`+orderV1Schema+`}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	line, err := lw.Encode(ctx, "lines", lineOf[orderV1]{Order: orderV1{ID: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	type storeLine struct {
		Order orderWithStore `avro:"order"`
	}
	nested, err := NewSerde[storeLine](reg, AnyRecordName())
	if err != nil {
		t.Fatal(err)
	}
	var sl storeLine
	if err := nested.Decode(ctx, line, &sl); !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), "no field order.store") {
		t.Fatalf("nested: got %v, want ErrIncompatible naming order.store", err)
	}
}

func mustDerive[T any](t *testing.T) *Schema {
	t.Helper()
	s, err := Derive[T]("retail")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSerdeDecodeErrors(t *testing.T) {
	ctx := context.Background()
	reg, _, _ := newFakeRegistry(t)
	s, err := NewSerde[orderV2](reg, WithSchema(mustParse(t, orderV2Schema)))
	if err != nil {
		t.Fatal(err)
	}
	good, err := s.Encode(ctx, "errs", orderV2{ID: "order-with-a-long-id", Quantity: 5, Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	unknownID := append([]byte{0, 0, 0, 0x30, 0x39}, good[5:]...)

	// A schema whose record cannot resolve into orderV2: id is an int.
	other, err := NewSerde[map[string]any](reg, WithSchema(mustParse(t,
		`{"type":"record","name":"Order","namespace":"retail","fields":[{"name":"id","type":"int"}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	unresolvable, err := other.Encode(ctx, "other", map[string]any{"id": 5})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorruptPayload},
		{"short header", []byte{0, 0, 1}, ErrCorruptPayload},
		{"bad magic", append([]byte{1}, good[1:]...), ErrBadMagic},
		{"json instead of avro", []byte(`{"id":"x"}`), ErrBadMagic},
		{"unknown schema id", unknownID, ErrUnknownSchemaID},
		{"truncated payload", good[:len(good)-3], ErrCorruptPayload},
		{"trailing bytes", append(append([]byte{}, good...), 0x02), ErrCorruptPayload},
		{"unresolvable writer", unresolvable, ErrIncompatible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o orderV2
			err := s.Decode(ctx, tt.data, &o)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}

	t.Run("truncated is unexpected eof", func(t *testing.T) {
		var o orderV2
		if err := s.Decode(ctx, good[:len(good)-3], &o); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("got %v, want io.ErrUnexpectedEOF in the chain", err)
		}
	})
}

func TestSerdeUnknownIDIsRememberedBriefly(t *testing.T) {
	ctx := context.Background()
	reg, _, ct := newFakeRegistry(t)
	now := time.Unix(1000, 0)
	reg.now = func() time.Time { return now }
	s, err := NewSerde[orderV1](reg)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte{0, 0, 0, 0x30, 0x39, 2, 'x', 2}
	for i := 0; i < 5; i++ {
		var o orderV1
		if err := s.Decode(ctx, data, &o); !errors.Is(err, ErrUnknownSchemaID) {
			t.Fatalf("got %v, want ErrUnknownSchemaID", err)
		}
	}
	if got := ct.count("GET /schemas/ids/12345"); got != 1 {
		t.Fatalf("asked the registry %d times about one unknown id, want 1", got)
	}
	now = now.Add(notFoundTTL + time.Second)
	var o orderV1
	_ = s.Decode(ctx, data, &o)
	if got := ct.count("GET /schemas/ids/12345"); got != 2 {
		t.Fatalf("after the TTL: asked %d times, want 2", got)
	}
}

func TestSerdeSingleFlight(t *testing.T) {
	ctx := context.Background()
	reg, _, ct := newFakeRegistry(t)
	w, err := NewSerde[orderV1](reg, WithSchema(mustParse(t, orderV1Schema)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.Encode(ctx, "sf", orderV1{ID: "a", Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	// A fresh registry cache and a slow registry: 32 goroutines miss on
	// the same ID at once.
	reg2, err := NewRegistryFromOptions()
	if err != nil {
		t.Fatal(err)
	}
	reg2.cl = reg.cl
	ct.delay = 50 * time.Millisecond
	before := ct.count("GET /schemas/ids/")
	r, err := NewSerde[orderV1](reg2, WithSchema(mustParse(t, orderV1Schema)))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var o orderV1
			if err := r.Decode(ctx, b, &o); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := ct.count("GET /schemas/ids/") - before; got != 1 {
		t.Fatalf("32 concurrent misses made %d requests, want 1", got)
	}
}

func TestRegistrationPolicies(t *testing.T) {
	ctx := context.Background()
	reg, _, _ := newFakeRegistry(t)
	v1 := mustParse(t, orderV1Schema)
	v2 := mustParse(t, orderV2Schema)
	id1, err := reg.Register(ctx, "reg-value", v1)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := reg.Register(ctx, "reg-value", v2)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("lookup-only finds a registered schema", func(t *testing.T) {
		s, _ := NewSerde[orderV1](reg, WithSchema(v1), WithRegistration(LookupOnly()))
		if id, err := s.Prepare(ctx, "reg"); err != nil || id != id1 {
			t.Fatalf("got %d, %v, want %d", id, err, id1)
		}
	})
	t.Run("lookup-only finds the same schema registered with other text", func(t *testing.T) {
		// As Confluent's serializer registers orderV2: no default, no doc,
		// other spacing and key order.
		bare := mustParse(t, `{"name":"Order","namespace":"retail","type":"record","fields":[{"type":"string","name":"id"},
			{"name":"quantity","type":"int"},{"name":"currency","type":"string"}]}`)
		if bare.Fingerprint() != v2.Fingerprint() {
			t.Fatal("the test's two texts differ in canonical form")
		}
		idBare, err := reg.Register(ctx, "other-text-value", bare)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Client().LookupSchema(ctx, "other-text-value", sr.Schema{Schema: orderV2Schema}); err == nil {
			t.Fatal("the registry's own lookup finds the other text: the test shows nothing")
		}
		s, _ := NewSerde[orderV2](reg, WithSchema(v2), WithRegistration(LookupOnly()))
		if id, err := s.Prepare(ctx, "other-text"); err != nil || id != idBare {
			t.Fatalf("got %d, %v, want %d, the ID of the same schema in canonical form", id, err, idBare)
		}
		// A schema of another canonical form is still not registered.
		s1, _ := NewSerde[orderV1](reg, WithSchema(v1), WithRegistration(LookupOnly()))
		if _, err := s1.Prepare(ctx, "other-text"); !errors.Is(err, ErrNotRegistered) {
			t.Fatalf("another schema: got %v, want ErrNotRegistered", err)
		}
	})
	t.Run("lookup-only refuses an unregistered schema", func(t *testing.T) {
		s, _ := NewSerde[orderV1](reg, WithSchema(v1), WithRegistration(LookupOnly()))
		_, err := s.Prepare(ctx, "elsewhere")
		if !errors.Is(err, ErrNotRegistered) {
			t.Fatalf("got %v, want ErrNotRegistered", err)
		}
		if _, err := reg.Client().SubjectVersions(ctx, "elsewhere-value"); err == nil {
			t.Fatal("lookup-only registered the schema")
		}
	})
	t.Run("use-latest writes with the latest version", func(t *testing.T) {
		s, _ := NewSerde[orderV2](reg, WithRegistration(UseLatest()))
		if id, err := s.Prepare(ctx, "reg"); err != nil || id != id2 {
			t.Fatalf("got %d, %v, want %d", id, err, id2)
		}
	})
	t.Run("pinned id", func(t *testing.T) {
		s, _ := NewSerde[orderV1](reg, WithRegistration(PinnedID(id1)))
		b, err := s.Encode(ctx, "anything", orderV1{ID: "p", Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := SchemaID(b); id != id1 {
			t.Fatalf("wrote with id %d, want %d", id, id1)
		}
	})
	t.Run("pinned id must be positive", func(t *testing.T) {
		if _, err := NewSerde[orderV1](reg, WithRegistration(PinnedID(0))); err == nil {
			t.Fatal("PinnedID(0) accepted")
		}
	})
}

// TestOptionsAreSealedPerRole builds programs that give a constructor an
// option of another role, and wants the compiler to refuse each.
func TestOptionsAreSealedPerRole(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	cases := map[string]string{
		"consumer option to a producer": `schema.NewProducer[order](ctx, reg, "t", schema.OnInvalid(schema.SkipInvalid()))`,
		"consumer option to a serde":    `schema.NewSerde[order](reg, schema.WithLogger(nil))`,
		"write option to a consumer":    `schema.NewConsumer[order](ctx, reg, "g", nil, schema.WithRegistration(schema.LookupOnly()))`,
		"key option to a producer":      `schema.NewProducer[order](ctx, reg, "t", schema.ForKeys())`,
		"client option to a serde":      `schema.NewSerde[order](reg, schema.WithClientOpts())`,
	}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := "package main\n\nimport (\n\t\"context\"\n\n\t\"github.com/streamkit/streamkit/schema\"\n)\n\n" +
				"type order struct{ ID string }\n\nfunc main() {\n\tctx := context.Background()\n\tvar reg *schema.Registry\n\t_ = ctx\n\t_, _ = " + call + "\n}\n"
			if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("go", "vet", filepath.Join(dir, "main.go"))
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("compiled:\n%s", src)
			}
			if !strings.Contains(string(out), "does not implement") {
				t.Fatalf("refused for another reason: %s", out)
			}
		})
	}
}

func TestSubjectStrategies(t *testing.T) {
	s := mustParse(t, orderV1Schema)
	tests := []struct {
		name     string
		strategy SubjectStrategy
		part     Part
		want     string
	}{
		{"topic value", TopicName, Value, "orders-value"},
		{"topic key", TopicName, Key, "orders-key"},
		{"record", RecordName, Value, "retail.Order"},
		{"topic record", TopicRecordName, Value, "orders-retail.Order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.strategy("orders", tt.part, s)
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v, want %q", got, err, tt.want)
			}
		})
	}
	if _, err := RecordName("t", Value, mustParse(t, `"string"`)); !errors.Is(err, ErrInvalidSchema) {
		t.Fatalf("record name of a primitive: got %v, want ErrInvalidSchema", err)
	}

	ctx := context.Background()
	reg, _, ct := newFakeRegistry(t)
	custom := func(topic string, part Part, _ *Schema) (string, error) {
		return "team-" + topic + "-" + part.String(), nil
	}
	keys, err := NewSerde[orderV1](reg, WithSchema(s), WithSubjectStrategy(custom), ForKeys())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Prepare(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if got := ct.count("POST /subjects/team-orders-key/versions"); got != 1 {
		t.Fatalf("custom key subject registered %d times, want 1", got)
	}
}

func TestRegistryErrorMapping(t *testing.T) {
	tests := []struct {
		status, code int
		want         error
	}{
		{404, 40401, ErrSubjectNotFound},
		{404, 40402, ErrVersionNotFound},
		{404, 40403, ErrSchemaNotFound},
		{409, 409, ErrIncompatible},
		{409, 0, ErrIncompatible},
		{422, 42201, ErrInvalidSchema},
		{422, 0, ErrInvalidSchema},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.status, tt.code), func(t *testing.T) {
			resp := &sr.ResponseError{StatusCode: tt.status, ErrorCode: tt.code, Message: "registry says no"}
			err := registryErr(context.Background(), "register schema under \"s\"", fmt.Errorf("wrapped: %w", resp))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want it to match %v", err, tt.want)
			}
			var re *RegistryError
			if !errors.As(err, &re) || re.Message != "registry says no" || re.StatusCode != tt.status {
				t.Fatalf("got %#v, want a *RegistryError carrying the registry's message", err)
			}
			var inner *sr.ResponseError
			if !errors.As(err, &inner) || inner != resp {
				t.Fatal("the sr.ResponseError is not reachable with errors.As")
			}
		})
	}
	if err := registryErr(context.Background(), "op", errors.New("dial tcp: refused")); errors.As(err, new(*RegistryError)) {
		t.Fatalf("a transport error became a *RegistryError: %v", err)
	}
}

func TestLatestOfMissingSubject(t *testing.T) {
	reg, _, _ := newFakeRegistry(t)
	_, err := reg.Latest(context.Background(), "never-registered")
	if !errors.Is(err, ErrSubjectNotFound) {
		t.Fatalf("got %v, want ErrSubjectNotFound", err)
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := Parse(`{"type":"record"}`); !errors.Is(err, ErrInvalidSchema) {
		t.Fatalf("got %v, want ErrInvalidSchema", err)
	}
	if _, err := ParseFile("testdata/does-not-exist.avsc"); err == nil {
		t.Fatal("missing file accepted")
	}
}

// TestTypeMustFitSchema: NewSerde, NewProducer and NewConsumer refuse a Go
// type that does not fit the schema given with WithSchema, naming each
// place, before any registry call.
func TestTypeMustFitSchema(t *testing.T) {
	type item struct {
		SKU string `avro:"sku"`
	}
	type order struct {
		ID     string  `avro:"id"`
		Status string  `avro:"status"`
		Note   *string `avro:"note"`
		Items  []item  `avro:"items"`
	}
	const fits = `{"type":"record","name":"Order","namespace":"retail","fields":[
		{"name":"id","type":"string"},
		{"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}},
		{"name":"note","type":["null","string"],"default":null},
		{"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"sku","type":"string"}]}}},
		{"name":"channel","type":"string","default":"web"}]}`
	tests := []struct {
		name, schema string
		want         []string // in the error; none: it fits
	}{
		{"fits, with a defaulted field the type lacks and an enum read as a string", fits, nil},
		{"a field of the type the schema lacks", strings.Replace(fits, `{"name":"id","type":"string"},`, ``, 1),
			[]string{"id: in the Go type and not in the schema"}},
		{"a field of the schema without a default", strings.Replace(fits, `"default":"web"`, `"doc":"where"`, 1),
			[]string{"channel: in the schema, without a default, and not in the Go type"}},
		{"types differ", strings.Replace(fits, `{"name":"id","type":"string"}`, `{"name":"id","type":"long"}`, 1),
			[]string{"id: string in the Go type, long in the schema"}},
		{"optional in the schema only", strings.Replace(fits, `{"name":"id","type":"string"}`, `{"name":"id","type":["null","string"],"default":null}`, 1),
			[]string{"id: optional in the schema"}},
		{"optional in the type only", strings.Replace(fits, `"type":["null","string"],"default":null`, `"type":"string"`, 1),
			[]string{"note: optional in the Go type"}},
		{"nested", strings.Replace(fits, `{"name":"sku","type":"string"}`, `{"name":"code","type":"string"}`, 1),
			[]string{"items[].code: in the schema, without a default", "items[].sku: in the Go type and not in the schema"}},
	}
	reg, _, ct := newFakeRegistry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.schema)
			before := ct.total.Load()
			errs := []error{}
			_, err := NewSerde[order](reg, WithSchema(s))
			errs = append(errs, err)
			_, err = NewProducer[order](t.Context(), reg, "orders", WithSchema(s), WithRegistration(LookupOnly()), WithClientOpts(kgo.SeedBrokers("127.0.0.1:1")))
			if len(tt.want) > 0 {
				errs = append(errs, err)
			}
			_, err = NewConsumer[order](t.Context(), reg, "g", []string{"orders"}, WithSchema(s), WithClientOpts(kgo.SeedBrokers("127.0.0.1:1")))
			errs = append(errs, err)
			for i, err := range errs {
				if len(tt.want) == 0 {
					if err != nil {
						t.Fatalf("constructor %d: %v", i, err)
					}
					continue
				}
				var tm *TypeMismatchError
				if !errors.Is(err, ErrTypeMismatch) || !errors.As(err, &tm) {
					t.Fatalf("constructor %d: got %v, want ErrTypeMismatch", i, err)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("constructor %d: %v; want it to say %q", i, err, w)
					}
				}
			}
			if len(tt.want) > 0 && ct.total.Load() != before {
				t.Errorf("%d registry requests before the refusal", ct.total.Load()-before)
			}
		})
	}
}

func TestParseFS(t *testing.T) {
	fsys := fstest.MapFS{
		"schemas/order.avsc": {Data: []byte(orderV1Schema)},
		"schemas/bad.avsc":   {Data: []byte(`{"type":"record"}`)},
	}
	s, err := ParseFS(fsys, "schemas/order.avsc")
	if err != nil || s.FullName() != "retail.Order" {
		t.Fatalf("ParseFS: %v, %v", s, err)
	}
	if _, err := ParseFS(fsys, "schemas/bad.avsc"); !errors.Is(err, ErrInvalidSchema) || !strings.Contains(err.Error(), "schemas/bad.avsc") {
		t.Fatalf("a bad schema: %v, want ErrInvalidSchema naming the file", err)
	}
	if _, err := ParseFS(fsys, "schemas/none.avsc"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing file: %v, want fs.ErrNotExist", err)
	}
}
