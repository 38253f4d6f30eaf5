package faults

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/schema"
)

// Order is what the consumers read: the fields every version has.
type Order struct {
	ID  string `avro:"id"`
	Seq int64  `avro:"seq"`
}

// orderVersions are four BACKWARD-compatible versions of faults.Order:
// each adds a field with a default.
var orderVersions = []string{
	`{"type":"record","name":"Order","namespace":"faults","fields":[
		{"name":"id","type":"string"},{"name":"seq","type":"long"}]}`,
	`{"type":"record","name":"Order","namespace":"faults","fields":[
		{"name":"id","type":"string"},{"name":"seq","type":"long"},
		{"name":"region","type":"string","default":""}]}`,
	`{"type":"record","name":"Order","namespace":"faults","fields":[
		{"name":"id","type":"string"},{"name":"seq","type":"long"},
		{"name":"region","type":"string","default":""},{"name":"channel","type":"string","default":"web"}]}`,
	`{"type":"record","name":"Order","namespace":"faults","fields":[
		{"name":"id","type":"string"},{"name":"seq","type":"long"},
		{"name":"region","type":"string","default":""},{"name":"channel","type":"string","default":"web"},
		{"name":"priority","type":"int","default":0}]}`,
}

// writer writes records of the four versions, and poison, to one topic
// with a raw client, and remembers which offsets are bad.
type writer struct {
	t      *testing.T
	topic  string
	serdes []*schema.Serde[map[string]any]
	cl     *kgo.Client
	seq    int
	good   int
	bad    map[int32]map[int64]bool
	nbad   int
}

func newWriter(t *testing.T, ctx context.Context, p *platformtest.Platform, topic string) *writer {
	t.Helper()
	w := &writer{t: t, topic: topic, bad: map[int32]map[int64]bool{}}
	for _, text := range orderVersions {
		s, err := schema.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		se, err := schema.NewSerde[map[string]any](p.Clients.Registry, schema.WithSchema(s))
		if err != nil {
			t.Fatal(err)
		}
		// Registered now, while the registry is up; encoding makes no
		// registry call after this.
		if _, err := se.Prepare(ctx, topic); err != nil {
			t.Fatal(err)
		}
		w.serdes = append(w.serdes, se)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	w.cl = cl
	return w
}

// write produces n records with versions from..to (indexes into
// orderVersions), one poison record (no magic byte) in every poisonEvery
// when poisonEvery > 0.
func (w *writer) write(ctx context.Context, n, from, to, poisonEvery int) {
	w.t.Helper()
	rs := make([]*kgo.Record, 0, n)
	for i := 0; i < n; i++ {
		w.seq++
		key := []byte("order-" + strconv.Itoa(w.seq))
		if poisonEvery > 0 && w.seq%poisonEvery == 0 {
			rs = append(rs, &kgo.Record{Topic: w.topic, Key: key, Value: []byte("not avro " + strconv.Itoa(w.seq))})
			continue
		}
		v := from + w.seq%(to-from+1)
		val := map[string]any{"id": string(key), "seq": int64(w.seq)}
		if v >= 1 {
			val["region"] = "eu"
		}
		if v >= 2 {
			val["channel"] = "store"
		}
		if v >= 3 {
			val["priority"] = 2
		}
		b, err := w.serdes[v].Encode(ctx, w.topic, val)
		if err != nil {
			w.t.Fatal(err)
		}
		rs = append(rs, &kgo.Record{Topic: w.topic, Key: key, Value: b})
	}
	for _, res := range w.cl.ProduceSync(ctx, rs...) {
		if res.Err != nil {
			w.t.Fatal(res.Err)
		}
		r := res.Record
		if string(r.Value[:3]) == "not" {
			if w.bad[r.Partition] == nil {
				w.bad[r.Partition] = map[int64]bool{}
			}
			w.bad[r.Partition][r.Offset] = true
			w.nbad++
		} else {
			w.good++
		}
	}
}

// run is a consumer's loop: it polls, checks the order and the commits,
// marks and commits, until done says it has seen enough or ctx ends.
type run struct {
	c     *schema.Consumer[Order]
	led   *ledger
	holds []error
	err   error
}

func consume(ctx context.Context, c *schema.Consumer[Order], led *ledger, adm *kadm.Client, group, topic string, done func(delivered int, st schema.ConsumerStats) bool) *run {
	r := &run{c: c, led: led}
	delivered := 0
	for polls := 0; !done(delivered, c.Stats()); polls++ {
		recs, err := c.Poll(ctx)
		if ctx.Err() != nil {
			r.err = fmt.Errorf("after %d delivered, stats %+v: %w", delivered, c.Stats(), ctx.Err())
			return r
		}
		for _, rec := range recs {
			if err := led.deliver(rec.Partition, rec.Offset); err != nil {
				r.err = err
				return r
			}
			if rec.Value.ID != string(rec.Key) {
				r.err = fmt.Errorf("%s[%d]@%d: value %+v under key %s", rec.Topic, rec.Partition, rec.Offset, rec.Value, rec.Key)
				return r
			}
		}
		delivered += len(recs)
		c.MarkProcessed(recs...)
		if err != nil {
			var he *schema.HoldError
			if !errors.As(err, &he) {
				r.err = fmt.Errorf("poll: %w", err)
				return r
			}
			r.holds = append(r.holds, err)
		}
		if err != nil || polls%20 == 0 {
			if cerr := c.Commit(ctx); cerr != nil && ctx.Err() == nil {
				r.err = cerr
				return r
			}
			if cerr := led.checkCommitted(ctx, adm, group, topic); cerr != nil {
				r.err = cerr
				return r
			}
		}
	}
	if err := c.Commit(ctx); err != nil {
		r.err = err
	}
	return r
}

// TestFaultRegistryRestart kills the registry while consumers under each
// invalid-record policy read records whose schema IDs they have not met
// yet, and starts it again. The records wait for it: every valid record
// is delivered once and in order, only the poison records are
// dead-lettered or skipped, exactly as counted, and no commit passes a
// record that was not handled. The restarted registry knows every ID
// (it keeps its schemas in Kafka). The last case reads through the
// registry's TLS proxy with basic authentication, as a consumer of a TLS
// platform does: the proxy answers 502 while the registry is down, which
// is an outage (ErrUnavailable) too, never a refusal or a dead letter.
func TestFaultRegistryRestart(t *testing.T) {
	p := requireFaults(t, platformtest.Kafka, platformtest.SchemaRegistry, platformtest.KafkaTLS, platformtest.HTTPS)
	policies := []struct {
		name        string
		policy      func(dlq string) schema.InvalidPolicy
		poisonEvery int
		viaTLSProxy bool
	}{
		{"dead-letter", schema.DeadLetter, 97, false},
		{"skip", func(string) schema.InvalidPolicy { return schema.SkipInvalid() }, 89, false},
		{"stop", func(string) schema.InvalidPolicy { return schema.StopOnInvalid() }, 0, false},
		{"dead-letter-tls-proxy", schema.DeadLetter, 97, true},
	}
	for _, pol := range policies {
		t.Run(pol.name, func(t *testing.T) {
			ctx := suiteCtx(t, 3*time.Minute)
			topic := platformtest.UniqueName("fault-registry-" + pol.name)
			dlq := topic + ".dlq"
			platformtest.CreateTopicsT(t, p.Clients.Admin, 6, topic, dlq)
			w := newWriter(t, ctx, p, topic)
			w.write(ctx, 600, 0, 0, pol.poisonEvery)

			// A cold registry client, as a consumer that starts now has.
			opts := []sr.ClientOpt{sr.URLs(p.SchemaRegistryURL)}
			if pol.viaTLSProxy {
				trust, err := p.TLSConfig()
				if err != nil {
					t.Fatal(err)
				}
				opts = []sr.ClientOpt{sr.URLs(p.SchemaRegistryTLSURL), sr.DialTLSConfig(trust),
					sr.BasicAuth(p.SchemaRegistryUser, p.SchemaRegistryPassword)}
			}
			reg, err := schema.NewRegistryFromOptions(opts...)
			if err != nil {
				t.Fatal(err)
			}
			group := platformtest.UniqueName("fault-registry")
			c, err := schema.NewConsumer[Order](ctx, reg, group, []string{topic}, schema.OnInvalid(pol.policy(dlq)),
				schema.WithBackoff(100*time.Millisecond, 2*time.Second),
				schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
			led := newLedger(w.bad)

			// Phase 1: the consumer meets version 1 while the registry is up.
			handled := func(target int) func(int, schema.ConsumerStats) bool {
				return func(_ int, st schema.ConsumerStats) bool {
					return st.Decoded+st.DeadLettered+st.Skipped >= uint64(target)
				}
			}
			if r := consume(ctx, c, led, p.Clients.Admin, group, topic, handled(w.good+w.nbad)); r.err != nil {
				t.Fatalf("phase 1: %v", r.err)
			}

			// Phase 2: versions 2 to 4, which it has not met, written while
			// the registry is down.
			kill(t, "registry")
			w.write(ctx, 1800, 1, 3, pol.poisonEvery)
			result := make(chan *run, 1)
			go func() {
				result <- consume(ctx, c, led, p.Clients.Admin, group, topic, handled(w.good+w.nbad))
			}()
			time.Sleep(3 * time.Second)
			if err := <-startAsync(t, "registry"); err != nil {
				t.Fatal(err)
			}
			r := <-result
			if r.err != nil {
				t.Fatalf("phase 2: %v", r.err)
			}

			unavailable := 0
			for _, h := range r.holds {
				if errors.Is(h, schema.ErrUnavailable) {
					unavailable++
				}
			}
			st := c.Stats()
			t.Logf("%d good, %d poison; stats %+v; %d holds, %d for an unavailable registry", w.good, w.nbad, st, len(r.holds), unavailable)
			if unavailable == 0 {
				t.Fatalf("no hold for an unavailable registry: the outage was not met (holds %v)", r.holds)
			}
			if st.Decoded != uint64(w.good) {
				t.Fatalf("decoded %d, want every one of the %d valid records", st.Decoded, w.good)
			}
			if pol.viaTLSProxy {
				// The outage as the proxy tells it: 502, an outage. (A
				// registry that is starting may answer 404 for an ID it
				// has: a hold too, not trusted as "no such ID".)
				badGateway := 0
				for _, h := range r.holds {
					var re *schema.RegistryError
					if errors.Is(h, schema.ErrUnavailable) && errors.As(h, &re) {
						if re.StatusCode != http.StatusBadGateway {
							t.Fatalf("an outage through the proxy with status %d: %v", re.StatusCode, h)
						}
						badGateway++
					}
					if errors.Is(h, schema.ErrRefused) {
						t.Fatalf("a refusal while the registry was down: %v", h)
					}
				}
				if badGateway == 0 {
					t.Fatalf("no hold for the proxy's 502: %v", r.holds)
				}
				t.Logf("%d holds for the proxy's 502 Bad Gateway", badGateway)
			}
			switch pol.name {
			case "dead-letter", "dead-letter-tls-proxy":
				if st.DeadLettered != uint64(w.nbad) || st.Skipped != 0 {
					t.Fatalf("stats %+v, want exactly the %d poison records dead-lettered", st, w.nbad)
				}
				if n := endOffsetsSum(t, ctx, p.Clients.Admin, dlq); n != int64(w.nbad) {
					t.Fatalf("dead-letter topic holds %d records, want %d", n, w.nbad)
				}
			case "skip":
				if st.Skipped != uint64(w.nbad) || st.DeadLettered != 0 {
					t.Fatalf("stats %+v, want exactly the %d poison records skipped", st, w.nbad)
				}
			}
			if err := led.checkCommitted(ctx, p.Clients.Admin, group, topic); err != nil {
				t.Fatal(err)
			}
			wantCommittedTotal(t, ctx, p.Clients.Admin, group, topic, int64(w.good+w.nbad))

			// The restarted registry knows every ID it gave out.
			for i, se := range w.serdes {
				id, err := se.Prepare(ctx, topic)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := reg.SchemaByID(ctx, id); err != nil {
					t.Fatalf("version %d (id %d) after the restart: %v", i+1, id, err)
				}
			}
		})
	}
}

func endOffsetsSum(t *testing.T, ctx context.Context, adm *kadm.Client, topic string) int64 {
	t.Helper()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}
