package topics

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TeamRole is what one of a team's principals may do in the team's
// namespace, on every cluster of the team: Bindings expands it to ACLs
// whose resources are the namespace's prefix. Kafka's ACL model cannot
// delegate two things to any role: creating ACLs and setting SCRAM
// credentials both need ALTER on the cluster, which is every ACL and
// every credential of the cluster, not a prefix's. Those stay with the
// platform's administrator (the principal the platform's own pipeline runs
// as); a team's deployer applies topics and connectors, and the ACL and
// credential changes of its plan are applied by that pipeline.
type TeamRole string

// The team roles, from most to least allowed.
const (
	// TeamOwner may do anything to the namespace's topics, groups and
	// transactional IDs, and describe the cluster (and its ACLs).
	TeamOwner TeamRole = "owner"
	// TeamDeployer may create, alter, reconfigure and delete the
	// namespace's topics, describe and delete its groups (housekeeping),
	// and describe the cluster (plan reads ACLs): it may not read or
	// write the data.
	TeamDeployer TeamRole = "deployer"
	// TeamService may read and write the namespace's topics, join and
	// commit in its groups, use its transactional IDs and write
	// idempotently.
	TeamService TeamRole = "service"
	// TeamReader may read the namespace's topics and join and commit in
	// its groups.
	TeamReader TeamRole = "reader"
)

// TeamRoles are the roles, from most to least allowed.
var TeamRoles = []TeamRole{TeamOwner, TeamDeployer, TeamService, TeamReader}

// ErrUnknownRole is returned for a role that is none of TeamRoles.
var ErrUnknownRole = errors.New("unknown role")

// Bindings returns the ACL bindings of principal ("User:pricing.billing")
// in role r over namespace ("pricing."): prefixed by the namespace, and a
// cluster binding for the roles that need one.
func (r TeamRole) Bindings(principal, namespace string) ([]Binding, error) {
	if namespace == "" {
		return nil, errors.New("role bindings: empty namespace")
	}
	if !strings.Contains(principal, ":") {
		return nil, fmt.Errorf("role bindings: principal %q: want Type:name", principal)
	}
	var out []Binding
	add := func(resource string, ops ...string) {
		name, pattern := namespace, "PREFIXED"
		if resource == "CLUSTER" {
			name, pattern = "kafka-cluster", "LITERAL"
		}
		for _, op := range ops {
			out = append(out, Binding{Principal: principal, Host: "*", Resource: resource, Name: name, Pattern: pattern,
				Operation: op, Permission: "ALLOW"})
		}
	}
	switch r {
	case TeamOwner:
		add("TOPIC", "ALL")
		add("GROUP", "ALL")
		add("TRANSACTIONAL_ID", "ALL")
		add("CLUSTER", "DESCRIBE", "IDEMPOTENT_WRITE")
	case TeamDeployer:
		add("TOPIC", "CREATE", "ALTER", "ALTER_CONFIGS", "DELETE", "DESCRIBE", "DESCRIBE_CONFIGS")
		add("GROUP", "DESCRIBE", "DELETE")
		add("CLUSTER", "DESCRIBE")
	case TeamService:
		add("TOPIC", "READ", "WRITE", "DESCRIBE")
		add("GROUP", "READ", "DESCRIBE")
		add("TRANSACTIONAL_ID", "WRITE", "DESCRIBE")
		add("CLUSTER", "IDEMPOTENT_WRITE")
	case TeamReader:
		add("TOPIC", "READ", "DESCRIBE")
		add("GROUP", "READ", "DESCRIBE")
	default:
		return nil, fmt.Errorf("role %q of %s: %w: want owner, deployer, service or reader", r, principal, ErrUnknownRole)
	}
	for i := range out {
		var err error
		if out[i], err = out[i].normalize(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetSCRAM sets user's SCRAM-SHA-512 credential to password: Kafka keeps
// a salted hash (4096 iterations), never the password. It needs ALTER on
// the cluster, the platform administrator's; a refusal is Kafka's
// kerr.ClusterAuthorizationFailed.
func (c *Client) SetSCRAM(ctx context.Context, user, password string) (err error) {
	ctx, done := c.guard(ctx)
	defer done(&err)
	if user == "" || password == "" {
		return errors.New("set scram: empty user or password")
	}
	res, err := c.adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: user, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: password}})
	if err != nil {
		return fmt.Errorf("set scram %s: %w", user, err)
	}
	if err := res.Error(); err != nil {
		return fmt.Errorf("set scram %s: %w", user, err)
	}
	return nil
}

// DeleteSCRAM deletes user's SCRAM-SHA-512 credential; one that does not
// exist is no error.
func (c *Client) DeleteSCRAM(ctx context.Context, user string) (err error) {
	ctx, done := c.guard(ctx)
	defer done(&err)
	res, err := c.adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: user, Mechanism: kadm.ScramSha512}}, nil)
	if err != nil {
		return fmt.Errorf("delete scram %s: %w", user, err)
	}
	if err := res.Error(); err != nil && !errors.Is(err, kerr.ResourceNotFound) {
		return fmt.Errorf("delete scram %s: %w", user, err)
	}
	return nil
}
