package topics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/topics"
)

// matrixOp is one operation of the denial matrix, tried as one principal.
type matrixOp struct {
	name string
	// allowed are the roles that may do it; "none" is a principal with a
	// credential and no ACL.
	allowed []topics.TeamRole
	run     func(ctx context.Context, m *matrix, role string) error
}

// matrix is one cluster's denial matrix: a team namespace with a
// principal per role, and another team's topic.
type matrix struct {
	t        *testing.T
	cluster  string
	brokers  []string
	base     []kgo.Opt // TLS, for the secure cluster
	admin    *topics.Client
	ns       string
	topic    string // the team's, with records
	other    string // another team's
	password map[string]string
}

func (m *matrix) user(role string) string { return m.ns + role }

// client is a kgo client of role's principal.
func (m *matrix) client(role string, opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append(append([]kgo.Opt{kgo.SeedBrokers(m.brokers...), kgo.RequestRetries(2),
		kgo.SASL(scram.Auth{User: m.user(role), Pass: m.password[role]}.AsSha512Mechanism())}, m.base...), opts...)...)
}

func (m *matrix) adminOf(role string) (*kadm.Client, func(), error) {
	cl, err := m.client(role)
	if err != nil {
		return nil, nil, err
	}
	return kadm.NewClient(cl), cl.Close, nil
}

// produce writes one record to topic as role.
func (m *matrix) produce(ctx context.Context, role, topic string) error {
	cl, err := m.client(role)
	if err != nil {
		return err
	}
	defer cl.Close()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("matrix")}).FirstErr()
}

// consume reads one record of topic in the team's group as role.
func (m *matrix) consume(ctx context.Context, role, topic string) error {
	cl, err := m.client(role, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(m.ns+"group-"+role),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return err
		}
		for _, e := range fs.Errors() {
			return e.Err
		}
		if len(fs.Records()) > 0 {
			return cl.CommitUncommittedOffsets(ctx)
		}
	}
}

func (m *matrix) ops() []matrixOp {
	own := func(ctx context.Context, role string, f func(*kadm.Client) error) error {
		adm, done, err := m.adminOf(role)
		if err != nil {
			return err
		}
		defer done()
		return f(adm)
	}
	return []matrixOp{
		{"topic write", []topics.TeamRole{topics.TeamOwner, topics.TeamService}, func(ctx context.Context, m *matrix, role string) error {
			return m.produce(ctx, role, m.topic)
		}},
		{"topic read, group", []topics.TeamRole{topics.TeamOwner, topics.TeamService, topics.TeamReader}, func(ctx context.Context, m *matrix, role string) error {
			return m.consume(ctx, role, m.topic)
		}},
		{"transactional id", []topics.TeamRole{topics.TeamOwner, topics.TeamService}, func(ctx context.Context, m *matrix, role string) error {
			cl, err := m.client(role, kgo.TransactionalID(m.ns+"tx-"+role), kgo.DefaultProduceTopic(m.topic))
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := cl.BeginTransaction(); err != nil {
				return err
			}
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("tx")}).FirstErr(); err != nil {
				_ = cl.EndTransaction(ctx, kgo.TryAbort)
				return err
			}
			return cl.EndTransaction(ctx, kgo.TryCommit)
		}},
		{"topic create", []topics.TeamRole{topics.TeamOwner, topics.TeamDeployer}, func(ctx context.Context, m *matrix, role string) error {
			return own(ctx, role, func(adm *kadm.Client) error {
				resp, err := adm.CreateTopic(ctx, 1, 1, nil, m.ns+"created-by-"+role)
				if err != nil {
					return err
				}
				return resp.Err
			})
		}},
		{"topic config", []topics.TeamRole{topics.TeamOwner, topics.TeamDeployer}, func(ctx context.Context, m *matrix, role string) error {
			return own(ctx, role, func(adm *kadm.Client) error {
				v := "86400000"
				resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: &v}}, m.topic)
				if err != nil {
					return err
				}
				return resp[0].Err
			})
		}},
		{"topic delete", []topics.TeamRole{topics.TeamOwner, topics.TeamDeployer}, func(ctx context.Context, m *matrix, role string) error {
			victim := m.ns + "victim-" + role
			if _, err := m.admin.Admin().CreateTopic(ctx, 1, 1, nil, victim); err != nil {
				return fmt.Errorf("setup: %w", err)
			}
			return own(ctx, role, func(adm *kadm.Client) error {
				resp, err := adm.DeleteTopics(ctx, victim)
				if err != nil {
					return err
				}
				return resp[victim].Err
			})
		}},
		{"other team's topic write", nil, func(ctx context.Context, m *matrix, role string) error {
			return m.produce(ctx, role, m.other)
		}},
		{"other team's topic read", nil, func(ctx context.Context, m *matrix, role string) error {
			return m.consume(ctx, role, m.other)
		}},
		{"topic create outside namespace", nil, func(ctx context.Context, m *matrix, role string) error {
			return own(ctx, role, func(adm *kadm.Client) error {
				resp, err := adm.CreateTopic(ctx, 1, 1, nil, "outside-"+m.ns+role)
				if err != nil {
					return err
				}
				return resp.Err
			})
		}},
		{"cluster describe (acls)", []topics.TeamRole{topics.TeamOwner, topics.TeamDeployer}, func(ctx context.Context, m *matrix, role string) error {
			return own(ctx, role, func(adm *kadm.Client) error {
				res, err := adm.DescribeACLs(ctx, kadm.NewACLs().Topics(m.ns).ResourcePatternType(kadm.ACLPatternPrefixed).
					Allow().AllowHosts().Operations(kadm.OpAny))
				if err != nil {
					return err
				}
				return res[0].Err
			})
		}},
		{"acl create (cluster alter)", nil, func(ctx context.Context, m *matrix, role string) error {
			return own(ctx, role, func(adm *kadm.Client) error {
				res, err := adm.CreateACLs(ctx, kadm.NewACLs().Topics(m.ns).ResourcePatternType(kadm.ACLPatternPrefixed).
					Allow("User:"+m.user(role)).AllowHosts().Operations(kadm.OpRead))
				if err != nil {
					return err
				}
				return res[0].Err
			})
		}},
		{"scram credential (cluster alter)", nil, func(ctx context.Context, m *matrix, role string) error {
			return own(ctx, role, func(adm *kadm.Client) error {
				res, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: m.user(role), Mechanism: kadm.ScramSha512,
					Iterations: 4096, Password: "changed-" + m.password[role]}})
				if err != nil {
					return err
				}
				return res.Error()
			})
		}},
	}
}

// TestIntegrationRoleDenialMatrix applies each team role's ACLs
// (topics.TeamRole.Bindings) to a principal of its own on both clusters of
// the platform, the standard one through its SASL listener and the secure
// one through SASL_SSL, and tries every operation as every role and as a
// principal without ACLs: each is allowed where the role allows it and
// refused with Kafka's authorization error everywhere else. An operation
// that neither succeeds nor is refused so is an unexpected result; there
// must be none.
func TestIntegrationRoleDenialMatrix(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.KafkaSASL, platformtest.SecureKafka)
	trust, err := p.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		brokers []string
		base    []kgo.Opt
	}{
		{"standard", p.SASLBrokers, nil},
		{"secure", p.SecureSASLSSLBrokers, []kgo.Opt{kgo.DialTLSConfig(trust)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runMatrix(t, p, c.name, c.brokers, c.base)
		})
	}
}

func runMatrix(t *testing.T, p platformtest.Platform, cluster string, brokers []string, base []kgo.Opt) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	admin, err := topics.NewFromOptions(append([]kgo.Opt{kgo.SeedBrokers(brokers...),
		kgo.SASL(scram.Auth{User: p.KafkaAdminUser, Pass: p.KafkaAdminPassword}.AsSha512Mechanism())}, base...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	m := &matrix{t: t, cluster: cluster, brokers: brokers, base: base, admin: admin,
		ns: platformtest.UniqueName("matrix") + ".", password: map[string]string{}}
	m.topic, m.other = m.ns+"orders.v1", platformtest.UniqueName("otherteam")+".orders.v1"
	roles := append(append([]string{}, stringsOf(topics.TeamRoles)...), "none")

	for _, name := range []string{m.topic, m.other} {
		if resp, err := admin.Admin().CreateTopic(ctx, 1, 1, nil, name); err != nil || resp.Err != nil {
			t.Fatalf("create %s: %v %v", name, err, resp.Err)
		}
		if err := kgoProduceAsAdmin(ctx, brokers, base, p, name); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		td, _ := admin.Admin().ListTopics(ctx)
		var names []string
		for _, d := range td {
			if strings.HasPrefix(d.Topic, m.ns) || strings.HasPrefix(d.Topic, "outside-"+m.ns) || d.Topic == m.other {
				names = append(names, d.Topic)
			}
		}
		_, _ = admin.Admin().DeleteTopics(ctx, names...)
		for _, r := range roles {
			_ = admin.DeleteSCRAM(ctx, m.user(r))
		}
	})

	// Principals as the platform's administrator makes them: a SCRAM
	// credential each, and the role's ACLs.
	var bindings []topics.Binding
	for _, r := range roles {
		m.password[r] = secret()
		if err := admin.SetSCRAM(ctx, m.user(r), m.password[r]); err != nil {
			t.Fatal(err)
		}
		if r == "none" {
			continue
		}
		bs, err := topics.TeamRole(r).Bindings("User:"+m.user(r), m.ns)
		if err != nil {
			t.Fatal(err)
		}
		bindings = append(bindings, bs...)
	}
	aclOpts := topics.PlanOptions{Namespace: m.ns, Prune: true}
	plan, err := admin.PlanACLs(ctx, nil, bindings, aclOpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.ApplyACLs(ctx, plan); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if p, err := admin.PlanACLs(ctx, nil, nil, aclOpts); err == nil {
			_ = admin.ApplyACLs(ctx, p)
		}
	})
	for _, r := range roles {
		if err := waitLogin(ctx, m, r); err != nil {
			t.Fatal(err)
		}
	}
	// The ACLs reach every broker's authorizer a moment apart.
	time.Sleep(2 * time.Second)

	var tried, allowed, refused, unexpected, wrong int
	var table strings.Builder
	fmt.Fprintf(&table, "%-34s", "operation \\ role")
	for _, r := range roles {
		fmt.Fprintf(&table, " %-9s", r)
	}
	table.WriteString("\n")
	for _, op := range m.ops() {
		fmt.Fprintf(&table, "%-34s", op.name)
		for _, r := range roles {
			want := false
			for _, a := range op.allowed {
				want = want || string(a) == r
			}
			octx, ocancel := context.WithTimeout(ctx, 20*time.Second)
			err := op.run(octx, m, r)
			ocancel()
			tried++
			cell := ""
			switch {
			case err == nil:
				allowed++
				cell = "allowed"
				if !want {
					wrong++
					t.Errorf("%s: %s as %s was allowed; the role should not allow it", cluster, op.name, r)
				}
			case topics.IsAuthorizationError(err):
				refused++
				cell = "refused"
				if want {
					wrong++
					t.Errorf("%s: %s as %s was refused: %v", cluster, op.name, r, err)
				}
			default:
				unexpected++
				cell = "ERROR"
				t.Errorf("%s: %s as %s: neither allowed nor refused with an authorization error: %v", cluster, op.name, r, err)
			}
			fmt.Fprintf(&table, " %-9s", cell)
		}
		table.WriteString("\n")
	}
	t.Logf("denial matrix on the %s cluster: %d operations tried, %d allowed, %d refused, %d unexpected, %d against the roles\n%s",
		cluster, tried, allowed, refused, unexpected, wrong, table.String())
}

func stringsOf(roles []topics.TeamRole) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// kgoProduceAsAdmin writes one record to topic as the SCRAM super user.
func kgoProduceAsAdmin(ctx context.Context, brokers []string, base []kgo.Opt, p platformtest.Platform, topic string) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...),
		kgo.SASL(scram.Auth{User: p.KafkaAdminUser, Pass: p.KafkaAdminPassword}.AsSha512Mechanism())}, base...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("seed")}).FirstErr()
}

// waitLogin waits until every broker accepts role's new credential.
func waitLogin(ctx context.Context, m *matrix, role string) error {
	for _, addr := range m.brokers {
		for {
			cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.RequestRetries(0),
				kgo.SASL(scram.Auth{User: m.user(role), Pass: m.password[role]}.AsSha512Mechanism())}, m.base...)...)
			if err != nil {
				return err
			}
			err = cl.Ping(ctx)
			cl.Close()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("%s cannot log in on %s: %w", m.user(role), addr, errors.Join(err, ctx.Err()))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}
