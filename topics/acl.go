package topics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/streamkit/streamkit/internal/backoff"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Role is a named set of permissions that expands to ACL bindings.
type Role string

// The roles.
const (
	// RoleProducer may write and describe its topics, and write
	// idempotently (IDEMPOTENT_WRITE on the cluster), as franz-go and the
	// Java client do by default.
	RoleProducer Role = "producer"
	// RoleConsumer may read and describe its topics and read (join and
	// commit in) its groups.
	RoleConsumer Role = "consumer"
	// RoleAdmin may do anything to the topics and groups it names,
	// typically a prefix such as "pricing.*".
	RoleAdmin Role = "admin"
)

// Grant gives a principal a role on topics and groups. A name ending in
// "*" is a prefix ("pricing.*" is every topic starting with "pricing.");
// any other name is literal.
type Grant struct {
	// Principal is e.g. "User:pricing-svc".
	Principal string   `json:"principal"`
	Role      Role     `json:"role"`
	Topics    []string `json:"topics,omitempty"`
	// Groups are the consumer groups of a consumer or admin.
	Groups []string `json:"groups,omitempty"`
	// Host is the client host the grant is limited to; "*" (any) when
	// empty.
	Host string `json:"host,omitempty"`
	// Approval names the decision that allows a consumer or admin to read
	// restricted data (a ticket, a record of the data owner's consent);
	// validate refuses such a grant without one. It does not change the
	// ACLs.
	Approval string `json:"approval,omitempty"`
}

// Binding is one Kafka ACL. Resource, Pattern, Operation and Permission use
// Kafka's names in any case: "topic", "prefixed", "idempotent_write",
// "allow".
type Binding struct {
	Principal  string `json:"principal"`
	Host       string `json:"host"`
	Resource   string `json:"resource"`
	Name       string `json:"name"`
	Pattern    string `json:"pattern"`
	Operation  string `json:"operation"`
	Permission string `json:"permission"`
}

func (b Binding) String() string {
	return fmt.Sprintf("%s %s %s on %s %s:%s from %s", b.Permission, b.Principal, b.Operation, b.Pattern, b.Resource, b.Name, b.Host)
}

// Covers reports whether b is a binding on topic: a TOPIC binding whose
// name is topic or the wildcard "*" (LITERAL, the default), or a prefix
// of topic (PREFIXED). Names are compared as Kafka does, resource and
// pattern types in any case.
func (b Binding) Covers(topic string) bool {
	n, err := b.Normalize()
	if err != nil || n.Resource != "TOPIC" {
		return false
	}
	switch n.Pattern {
	case "LITERAL":
		return n.Name == topic || n.Name == "*"
	case "PREFIXED":
		return strings.HasPrefix(topic, n.Name)
	}
	return false
}

// Normalize returns b as Kafka reads it: resource, pattern, operation and
// permission in Kafka's canonical upper-case names (whatever spelling
// Kafka accepts: "topic", "Topic", "transactional_id"), a LITERAL
// pattern, a "*" host and an ALLOW permission where b leaves them out.
// A binding that does not parse is an error that says which part.
func (b Binding) Normalize() (Binding, error) { return b.normalize() }

// normalize returns b with Kafka's canonical upper-case names and
// defaults, or an error naming what does not parse.
func (b Binding) normalize() (Binding, error) {
	rt, err := kmsg.ParseACLResourceType(b.Resource)
	if err != nil || rt < kmsg.ACLResourceTypeTopic || rt > kmsg.ACLResourceTypeTransactionalId {
		return b, fmt.Errorf("binding %v: resource %q: want topic, group, cluster or transactional_id", b, b.Resource)
	}
	if b.Pattern == "" {
		b.Pattern = "literal"
	}
	pt, err := kmsg.ParseACLResourcePatternType(b.Pattern)
	if err != nil || (pt != kmsg.ACLResourcePatternTypeLiteral && pt != kmsg.ACLResourcePatternTypePrefixed) {
		return b, fmt.Errorf("binding %v: pattern %q: want literal or prefixed", b, b.Pattern)
	}
	op, err := kmsg.ParseACLOperation(b.Operation)
	if err != nil || op < kmsg.ACLOperationAll {
		return b, fmt.Errorf("binding %v: operation %q", b, b.Operation)
	}
	if b.Permission == "" {
		b.Permission = "allow"
	}
	perm, err := kmsg.ParseACLPermissionType(b.Permission)
	if err != nil || perm < kmsg.ACLPermissionTypeDeny {
		return b, fmt.Errorf("binding %v: permission %q: want allow or deny", b, b.Permission)
	}
	if !strings.Contains(b.Principal, ":") {
		return b, fmt.Errorf("binding %v: principal %q: want Type:name, e.g. User:alice", b, b.Principal)
	}
	if b.Host == "" {
		b.Host = "*"
	}
	if rt == kmsg.ACLResourceTypeCluster {
		b.Name = "kafka-cluster"
	}
	b.Resource, b.Pattern, b.Operation, b.Permission = rt.String(), pt.String(), op.String(), perm.String()
	return b, nil
}

// Covers reports whether one of the grant's topics covers topic: the same
// name, or a prefix ending in "*" that topic starts with.
func (g Grant) Covers(topic string) bool {
	for _, t := range g.Topics {
		if prefix, ok := strings.CutSuffix(t, "*"); (ok && strings.HasPrefix(topic, prefix)) || t == topic {
			return true
		}
	}
	return false
}

// Bindings expands the grant into ACL bindings.
func (g Grant) Bindings() ([]Binding, error) {
	host := g.Host
	if host == "" {
		host = "*"
	}
	var out []Binding
	add := func(resource, name string, ops ...string) {
		pattern := "LITERAL"
		if strings.HasSuffix(name, "*") && resource != "CLUSTER" {
			pattern, name = "PREFIXED", strings.TrimSuffix(name, "*")
		}
		for _, op := range ops {
			out = append(out, Binding{Principal: g.Principal, Host: host, Resource: resource, Name: name, Pattern: pattern, Operation: op, Permission: "ALLOW"})
		}
	}
	switch g.Role {
	case RoleProducer:
		for _, t := range g.Topics {
			add("TOPIC", t, "WRITE", "DESCRIBE")
		}
		add("CLUSTER", "kafka-cluster", "IDEMPOTENT_WRITE")
	case RoleConsumer:
		for _, t := range g.Topics {
			add("TOPIC", t, "READ", "DESCRIBE")
		}
		for _, gr := range g.Groups {
			add("GROUP", gr, "READ")
		}
		if len(g.Groups) == 0 {
			return nil, fmt.Errorf("grant %s consumer: no groups: a consumer needs READ on its group", g.Principal)
		}
	case RoleAdmin:
		for _, t := range g.Topics {
			add("TOPIC", t, "ALL")
		}
		for _, gr := range g.Groups {
			add("GROUP", gr, "ALL")
		}
	default:
		return nil, fmt.Errorf("grant %s: unknown role %q: want producer, consumer or admin", g.Principal, g.Role)
	}
	if len(g.Topics) == 0 && g.Role != RoleConsumer {
		return nil, fmt.Errorf("grant %s %s: no topics", g.Principal, g.Role)
	}
	for i := range out {
		var err error
		if out[i], err = out[i].normalize(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ACLPlan is the difference between desired ACL bindings and the cluster.
type ACLPlan struct {
	Namespace string    `json:"namespace"`
	Prune     bool      `json:"prune"`
	Create    []Binding `json:"create"`
	Delete    []Binding `json:"delete"`
	Unchanged int       `json:"unchanged"`
}

// Empty reports whether the plan changes nothing.
func (p *ACLPlan) Empty() bool { return len(p.Create) == 0 && len(p.Delete) == 0 }

// String renders the plan for review.
func (p *ACLPlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "acl plan for namespace %q\n", p.Namespace)
	for _, x := range p.Create {
		fmt.Fprintf(&b, "+ %s\n", x)
	}
	for _, x := range p.Delete {
		fmt.Fprintf(&b, "- %s\n", x)
	}
	fmt.Fprintf(&b, "%d to create, %d to delete, %d unchanged\n", len(p.Create), len(p.Delete), p.Unchanged)
	return b.String()
}

// MarshalJSON renders the plan for CI.
func (p *ACLPlan) MarshalJSON() ([]byte, error) {
	type plain ACLPlan
	q := plain(*p)
	if q.Create == nil {
		q.Create = []Binding{}
	}
	if q.Delete == nil {
		q.Delete = []Binding{}
	}
	return json.Marshal(q)
}

// PlanACLs compares the bindings of grants and raw bindings with the
// cluster's ACLs, read with one DescribeACLs request.
//
// A binding belongs to the namespace when its topic, group or
// transactional ID name starts with the namespace, or, for a binding on
// the cluster such as a producer's IDEMPOTENT_WRITE, when its principal's
// name does: "User:pricing.publisher" belongs to "pricing.". With
// opts.Prune the plan deletes the bindings of the namespace that are not
// desired, and only those, so a prune with no grants removes all that
// Apply created on the namespace's resources and for its principals, and
// never another namespace's.
//
// Kafka records no owner of a binding, and the cluster binding of a
// principal outside the namespace may be one another team's grants need
// too: the plan creates it when a grant needs it, but never deletes it.
// Name a team's principals inside its namespace for prune to remove their
// cluster bindings. Likewise a namespace's prune removes its principals'
// cluster bindings even when another namespace grants them a producer
// role; that namespace's next plan creates them again.
//
// Every desired binding on a topic, group or transactional ID must belong
// to the namespace; a desired binding on the cluster may be for any
// principal.
func (c *Client) PlanACLs(ctx context.Context, grants []Grant, raw []Binding, opts PlanOptions) (_ *ACLPlan, err error) {
	ctx, done := c.guard(ctx)
	defer done(&err)
	if opts.Namespace == "" {
		return nil, errors.New("plan acls: empty namespace")
	}
	desired := map[Binding]bool{}
	var errs []error
	for _, g := range grants {
		bs, err := g.Bindings()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, b := range bs {
			desired[b] = true
		}
	}
	for _, b := range raw {
		nb, err := b.normalize()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		desired[nb] = true
	}
	owned := func(b Binding) bool {
		if b.Resource == "CLUSTER" {
			_, name, _ := strings.Cut(b.Principal, ":")
			return strings.HasPrefix(name, opts.Namespace)
		}
		return strings.HasPrefix(b.Name, opts.Namespace)
	}
	for b := range desired {
		if b.Resource != "CLUSTER" && !owned(b) {
			errs = append(errs, fmt.Errorf("binding %v: %w %q", b, ErrOutsideNamespace, opts.Namespace))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("plan acls: %w", errors.Join(errs...))
	}

	live, err := c.describeACLs(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan acls: %w", err)
	}
	p := &ACLPlan{Namespace: opts.Namespace, Prune: opts.Prune}
	have := map[Binding]bool{}
	for _, b := range live {
		have[b] = true
		if desired[b] {
			p.Unchanged++
		} else if opts.Prune && owned(b) {
			p.Delete = append(p.Delete, b)
		}
	}
	for b := range desired {
		if !have[b] {
			p.Create = append(p.Create, b)
		}
	}
	sortBindings(p.Create)
	sortBindings(p.Delete)
	return p, nil
}

func sortBindings(bs []Binding) {
	sort.Slice(bs, func(i, j int) bool { return bs[i].String() < bs[j].String() })
}

func (c *Client) describeACLs(ctx context.Context) ([]Binding, error) {
	return describeACLsWith(ctx, c.cl)
}

func describeACLsWith(ctx context.Context, r kmsg.Requestor) ([]Binding, error) {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeAny
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAny
	resp, err := req.RequestWith(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("describe acls: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		if resp.ErrorMessage != nil {
			return nil, fmt.Errorf("describe acls: %w: %s", err, *resp.ErrorMessage)
		}
		return nil, fmt.Errorf("describe acls: %w", err)
	}
	var out []Binding
	for _, r := range resp.Resources {
		for _, a := range r.ACLs {
			out = append(out, Binding{
				Principal: a.Principal, Host: a.Host,
				Resource: r.ResourceType.String(), Name: r.ResourceName, Pattern: r.ResourcePatternType.String(),
				Operation: a.Operation.String(), Permission: a.PermissionType.String(),
			})
		}
	}
	return out, nil
}

// ApplyACLs creates the plan's missing bindings with one CreateACLs
// request and deletes its pruned bindings with one DeleteACLs request.
// Creating a binding that exists and deleting one that is gone are no-ops
// in Kafka, so ApplyACLs is idempotent.
func (c *Client) ApplyACLs(ctx context.Context, p *ACLPlan) (err error) {
	ctx, done := c.guard(ctx)
	defer done(&err)
	if len(p.Create) > 0 {
		req := kmsg.NewPtrCreateACLsRequest()
		for _, b := range p.Create {
			cr := kmsg.NewCreateACLsRequestCreation()
			cr.ResourceType, _ = kmsg.ParseACLResourceType(b.Resource)
			cr.ResourceName = b.Name
			cr.ResourcePatternType, _ = kmsg.ParseACLResourcePatternType(b.Pattern)
			cr.Principal, cr.Host = b.Principal, b.Host
			cr.Operation, _ = kmsg.ParseACLOperation(b.Operation)
			cr.PermissionType, _ = kmsg.ParseACLPermissionType(b.Permission)
			req.Creations = append(req.Creations, cr)
		}
		resp, err := req.RequestWith(ctx, c.cl)
		if err != nil {
			return fmt.Errorf("create acls: %w", err)
		}
		var errs []error
		for i, r := range resp.Results {
			if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
				errs = append(errs, fmt.Errorf("create %v: %w", p.Create[i], err))
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("create acls: %w", errors.Join(errs...))
		}
		for _, b := range p.Create {
			c.log.Info("created acl", "binding", b.String())
		}
	}
	if len(p.Delete) > 0 {
		req := kmsg.NewPtrDeleteACLsRequest()
		for _, b := range p.Delete {
			f := kmsg.NewDeleteACLsRequestFilter()
			f.ResourceType, _ = kmsg.ParseACLResourceType(b.Resource)
			f.ResourceName = &b.Name
			f.ResourcePatternType, _ = kmsg.ParseACLResourcePatternType(b.Pattern)
			f.Principal, f.Host = &b.Principal, &b.Host
			f.Operation, _ = kmsg.ParseACLOperation(b.Operation)
			f.PermissionType, _ = kmsg.ParseACLPermissionType(b.Permission)
			req.Filters = append(req.Filters, f)
		}
		resp, err := req.RequestWith(ctx, c.cl)
		if err != nil {
			return fmt.Errorf("delete acls: %w", err)
		}
		var errs []error
		for i, r := range resp.Results {
			if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
				errs = append(errs, fmt.Errorf("delete %v: %w", p.Delete[i], err))
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("delete acls: %w", errors.Join(errs...))
		}
		for _, b := range p.Delete {
			c.log.Info("deleted acl", "binding", b.String())
		}
	}
	return c.waitACLs(ctx, p)
}

// waitACLs waits until every broker's authorizer shows the plan's
// bindings created and deleted: brokers learn of ACL changes from the
// controller a moment apart, and a client may talk to any of them.
func (c *Client) waitACLs(ctx context.Context, p *ACLPlan) error {
	if p.Empty() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	md, err := c.adm.BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("wait for acls: %w", err)
	}
	for _, br := range md.Brokers {
		for {
			live, err := describeACLsWith(ctx, c.cl.Broker(int(br.NodeID)))
			if err == nil {
				have := map[Binding]bool{}
				for _, b := range live {
					have[b] = true
				}
				done := true
				for _, b := range p.Create {
					done = done && have[b]
				}
				for _, b := range p.Delete {
					done = done && !have[b]
				}
				if done {
					break
				}
			}
			if err := backoff.Sleep(ctx, 100*time.Millisecond); err != nil {
				return fmt.Errorf("wait for acls on broker %d: %w", br.NodeID, err)
			}
		}
	}
	return nil
}

// IsAuthorizationError reports whether err is Kafka refusing an operation
// to the principal: topic, group, cluster or transactional ID
// authorization failed.
func IsAuthorizationError(err error) bool {
	for _, e := range []error{
		kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed,
		kerr.ClusterAuthorizationFailed, kerr.TransactionalIDAuthorizationFailed,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
