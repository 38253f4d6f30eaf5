package validate

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/redact"
	"github.com/streamkit/streamkit/topics"
)

func dataRules() []Rule {
	return []Rule{
		{
			ID: "DATA001", Severity: Error,
			Summary: "every topic has a classification of the policy's levels",
			Doc: `With a data policy (the team file's data.levels), each topic says how
sensitive its data is, so that the rules below and the CLI's routing know
where it may live and who may read it.

Fails:  sk.topic('pricing.cards.v1')
Passes: sk.topic('pricing.cards.v1', classification='restricted')`,
			Check: checkClassified,
		},
		{
			ID: "DATA002", Severity: Error,
			Summary: "a topic lives on a cluster that may hold its classification",
			Doc: `Restricted data lives on the secure cluster only. A topic that names a
cluster (cluster: 'standard') that may not hold its level, or whose level
no cluster may hold, is refused: the CLI would otherwise create it where
the data must never be.

Fails:  sk.topic('pricing.cards.v1', classification='restricted') + {cluster: 'standard'}
Passes: sk.topic('pricing.cards.v1', classification='restricted')   (routed to the secure cluster)`,
			Check: checkTopicCluster,
		},
		{
			ID: "DATA003", Severity: Error,
			Summary: "a connector keeps restricted data on the secure cluster and on TLS",
			Doc: `A connector that reads or writes a restricted topic runs on a cluster that
may hold it; a MirrorMaker connector does not copy restricted topics to a
cluster that may not hold them; and a sink that moves restricted data out
of Kafka, or a source that brings it in, speaks TLS to the other end: an
https:// URL, a JDBC PostgreSQL URL with sslmode=require, verify-ca or
verify-full (a MySQL one with sslMode=REQUIRED, VERIFY_CA or
VERIFY_IDENTITY, a SQL Server one with encrypt=true), Debezium's
database.sslmode likewise, and a Kafka client's security.protocol (a
mirror's source.cluster. and target.cluster. ones, set whenever it names
that cluster's brokers, or a client override) SSL or SASL_SSL. A
FileStreamSink writes plain files and may not take restricted data.

Fails:  a JDBC sink of pricing.cards.v1 (restricted) to jdbc:postgresql://db/pricing
Passes: the same to jdbc:postgresql://db/pricing?sslmode=verify-full`,
			Check: forEachConnector(checkRestrictedConnector),
		},
		{
			ID: "DATA004", Severity: Error,
			Summary: "no literal credential near restricted data",
			Doc: `A connector that touches restricted data holds no credential, user name
or URL user info of its own: every one is a reference the worker
resolves (${vault:...}, ${dir:...}). Unlike CONN004, which a team may
lower, this holds whatever the team's overrides say of CONN004.

Fails:  "connection.user": "pricing" on a sink of a restricted topic
Passes: "connection.user": "${vault:secret/data/pricing/db:user}"`,
			Check: forEachConnector(checkRestrictedCredentials),
		},
		{
			ID: "DATA005", Severity: Error,
			Summary: "a grant that reads restricted data names its approval",
			Doc: `A consumer or admin grant on a restricted topic (by name, or by a prefix
that covers one) says which decision allows it: approval: 'SEC-1234'.
Producers are not readers and need none. A raw binding that allows READ or
ALL on a restricted topic has no place for an approval, and is refused:
write it as a grant.

Fails:  sk.consumer('User:pricing-analytics', ['pricing.cards.v1'], ['pricing-analytics'])
Passes: the same + {approval: 'SEC-1234'}`,
			Check: checkRestrictedGrants,
		},
	}
}

func checkClassified(c *Context) []Finding {
	p := c.Policy.Data
	if len(p.Levels) == 0 {
		return nil
	}
	var out []Finding
	for _, t := range c.Manifest.Topics {
		switch {
		case t.Classification == "":
			out = append(out, c.finding(kindTopic, t.Name, "", "topic %s has no classification: give it one of %s",
				t.Name, strings.Join(p.Levels, ", ")))
		case !slices.Contains(p.Levels, t.Classification):
			out = append(out, c.finding(kindTopic, t.Name, "classification", "classification %q is not one of %s",
				t.Classification, strings.Join(p.Levels, ", ")))
		}
	}
	return out
}

func checkTopicCluster(c *Context) []Finding {
	p := c.Policy.Data
	if len(p.Clusters) == 0 {
		return nil
	}
	var out []Finding
	for _, t := range c.Manifest.Topics {
		if t.Classification != "" && !slices.Contains(p.Levels, t.Classification) {
			continue // DATA001's
		}
		cluster, err := p.TopicCluster(t)
		switch {
		case err != nil && t.Cluster != "":
			out = append(out, c.finding(kindTopic, t.Name, "cluster", "cluster %q is not one of the team's: %s",
				t.Cluster, strings.Join(sortedKeys(p.Clusters), ", ")))
		case err != nil:
			out = append(out, c.finding(kindTopic, t.Name, "classification", "no cluster of the team may hold %s data", t.Classification))
		case t.Classification != "" && !slices.Contains(p.Clusters[cluster].Levels, t.Classification):
			out = append(out, c.finding(kindTopic, t.Name, "cluster", "%s data on the %s cluster, which may hold only %s: %s",
				t.Classification, cluster, strings.Join(p.Clusters[cluster].Levels, ", "), whereMay(p, t.Classification)))
		}
	}
	return out
}

// whereMay says which clusters may hold level.
func whereMay(p DataPolicy, level string) string {
	may := p.clustersOf(level)
	if len(may) == 0 {
		return "no cluster may"
	}
	return "put it on " + strings.Join(may, " or ") + ", or leave cluster out"
}

// restrictedTopics are the declared restricted topics s reads or writes.
func restrictedTopics(c *Context, s connect.Spec) []topics.Spec {
	var out []topics.Spec
	for _, t := range connectorDataTopics(s, c.Manifest) {
		if c.Policy.Data.IsRestricted(t.Classification) {
			out = append(out, t)
		}
	}
	return out
}

func names(ts []topics.Spec) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return strings.Join(out, ", ")
}

func checkRestrictedConnector(c *Context, s connect.Spec) []Finding {
	p := c.Policy.Data
	restricted := restrictedTopics(c, s)
	if len(restricted) == 0 {
		return nil
	}
	var out []Finding
	class := strings.TrimSpace(s.Config["connector.class"])
	if len(p.Clusters) > 0 {
		cluster, err := p.ConnectorCluster(s, c.Manifest)
		switch {
		case err != nil:
			out = append(out, c.finding(kindConnector, s.Name, "cluster", "cluster %q is not one of the team's", s.Cluster))
		case !p.holdsAll(cluster, restricted):
			what := "runs on"
			if isMirror(class) {
				what = "copies them to"
			}
			out = append(out, c.finding(kindConnector, s.Name, "cluster", "connector %s reads or writes restricted %s but %s the %s cluster, which may not hold them: %s",
				s.Name, names(restricted), what, cluster, whereMay(p, restricted[0].Classification)))
		}
	}
	if class == "org.apache.kafka.connect.file.FileStreamSinkConnector" || strings.HasSuffix(class, ".FileStreamSink") {
		out = append(out, c.finding(kindConnector, s.Name, "connector.class",
			"a FileStreamSink writes restricted %s to plain files: use a sink that speaks TLS", names(restricted)))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Config)) {
		if problem := plainTextEndpoint(k, s.Config[k]); problem != "" {
			out = append(out, c.finding(kindConnector, s.Name, k, "%s moves restricted %s without TLS: %s", k, names(restricted), problem))
		}
	}
	// A MirrorMaker connector's clients of a cluster it names by its
	// brokers speak PLAINTEXT unless told otherwise.
	if isMirror(class) {
		for _, side := range []string{"source.cluster.", "target.cluster."} {
			if _, named := s.Config[side+"bootstrap.servers"]; !named {
				continue
			}
			if strings.TrimSpace(s.Config[side+"security.protocol"]) == "" {
				out = append(out, c.finding(kindConnector, s.Name, side+"bootstrap.servers",
					"%sbootstrap.servers without %ssecurity.protocol moves restricted %s over PLAINTEXT: set SSL or SASL_SSL", side, side, names(restricted)))
			}
		}
	}
	return out
}

// holdsAll reports whether cluster may hold every topic's classification.
func (p DataPolicy) holdsAll(cluster string, ts []topics.Spec) bool {
	for _, t := range ts {
		if !slices.Contains(p.Clusters[cluster].Levels, t.Classification) {
			return false
		}
	}
	return true
}

// plainTextEndpoint says how the value of key reaches another system
// without TLS, or "" when it does not (or is no endpoint, or is a
// reference the worker resolves).
func plainTextEndpoint(key, v string) string {
	v = strings.TrimSpace(v)
	k := strings.ToLower(key)
	if v == "" || strings.HasPrefix(v, "${") {
		return ""
	}
	if k == "security.protocol" || strings.HasSuffix(k, ".security.protocol") {
		// A Kafka client's: a mirror's source and target clusters, a
		// connector's producer, consumer or admin override.
		switch strings.ToUpper(v) {
		case "SSL", "SASL_SSL":
			return ""
		}
		return key + " " + v + ": want SSL or SASL_SSL"
	}
	if k == "database.sslmode" {
		switch strings.ToLower(v) {
		case "require", "verify-ca", "verify-full":
			return ""
		}
		return "database.sslmode " + v + ": want require, verify-ca or verify-full"
	}
	lv := strings.ToLower(v)
	switch {
	case strings.HasPrefix(lv, "http://"):
		return "an http:// URL: use https://"
	case strings.HasPrefix(lv, "jdbc:postgresql:"):
		q := jdbcParams(v)
		switch strings.ToLower(q["sslmode"]) {
		case "require", "verify-ca", "verify-full":
			return ""
		}
		return "a PostgreSQL URL without sslmode=require, verify-ca or verify-full"
	case strings.HasPrefix(lv, "jdbc:mysql:"), strings.HasPrefix(lv, "jdbc:mariadb:"):
		q := jdbcParams(v)
		switch strings.ToUpper(q["sslmode"]) {
		case "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY":
			return ""
		}
		return "a MySQL URL without sslMode=REQUIRED, VERIFY_CA or VERIFY_IDENTITY"
	case strings.HasPrefix(lv, "jdbc:sqlserver:"):
		if strings.EqualFold(jdbcParams(v)["encrypt"], "true") {
			return ""
		}
		return "a SQL Server URL without encrypt=true"
	}
	return ""
}

// jdbcParams returns the parameters of a JDBC URL with lower-case names:
// after ? and & (PostgreSQL, MySQL) or ; (SQL Server).
func jdbcParams(v string) map[string]string {
	out := map[string]string{}
	rest := v
	if i := strings.IndexAny(v, "?;"); i >= 0 {
		rest = v[i+1:]
	} else {
		return out
	}
	for part := range strings.FieldsFuncSeq(rest, func(r rune) bool { return r == '&' || r == ';' }) {
		name, value, _ := strings.Cut(part, "=")
		if u, err := url.QueryUnescape(value); err == nil {
			value = u
		}
		out[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
	}
	return out
}

// userKey reports whether a config key names a user of another system.
func userKey(k string) bool {
	k = strings.ToLower(k)
	return k == "user" || k == "username" || strings.HasSuffix(k, ".user") || strings.HasSuffix(k, ".username") ||
		strings.HasSuffix(k, ".user.name")
}

func checkRestrictedCredentials(c *Context, s connect.Spec) []Finding {
	restricted := restrictedTopics(c, s)
	if len(restricted) == 0 {
		return nil
	}
	var out []Finding
	for _, k := range slices.Sorted(maps.Keys(s.Config)) {
		v := s.Config[k]
		// Never the value: findings are printed in CI logs.
		switch {
		case redact.SensitiveKey(k) && literalCredential(k, v):
			out = append(out, c.finding(kindConnector, s.Name, k, "%s holds a literal credential next to restricted %s: reference it", k, names(restricted)))
		case userKey(k) && strings.TrimSpace(v) != "" && !redact.IsPlaceholder(v):
			out = append(out, c.finding(kindConnector, s.Name, k, "%s holds a literal user name next to restricted %s: reference it", k, names(restricted)))
		case hasUserInfo(v):
			out = append(out, c.finding(kindConnector, s.Name, k, "%s holds a URL with a literal user next to restricted %s: reference it", k, names(restricted)))
		case redact.URLPassword(v):
			out = append(out, c.finding(kindConnector, s.Name, k, "%s holds a literal credential in its URL next to restricted %s: reference it", k, names(restricted)))
		}
	}
	return out
}

// hasUserInfo reports whether v is a URL (a JDBC one too) with a literal
// user before its host.
func hasUserInfo(v string) bool {
	raw := strings.TrimPrefix(strings.TrimSpace(v), "jdbc:")
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || u.Host == "" {
		return false
	}
	return !redact.IsPlaceholder(u.User.Username())
}

func checkRestrictedGrants(c *Context) []Finding {
	p := c.Policy.Data
	var restricted []topics.Spec
	for _, t := range c.Manifest.Topics {
		if p.IsRestricted(t.Classification) {
			restricted = append(restricted, t)
		}
	}
	if len(restricted) == 0 {
		return nil
	}
	var out []Finding
	for _, g := range c.Manifest.ACLs {
		if g.Role != topics.RoleConsumer && g.Role != topics.RoleAdmin {
			continue
		}
		if strings.TrimSpace(g.Approval) != "" {
			continue
		}
		var read []topics.Spec
		for _, t := range restricted {
			if g.Covers(t.Name) {
				read = append(read, t)
			}
		}
		if len(read) > 0 {
			out = append(out, c.finding(kindACL, g.Principal, "topics", "%s may read restricted %s without an approval: name it (approval: 'SEC-1234')",
				g.Principal, names(read)))
		}
	}
	for _, b := range c.Manifest.Bindings {
		// As Kafka reads it: no permission is ALLOW.
		n, err := b.Normalize()
		if err != nil || n.Permission != "ALLOW" || (n.Operation != "READ" && n.Operation != "ALL") {
			continue // ACL rules refuse a binding that does not parse
		}
		var read []topics.Spec
		for _, t := range restricted {
			if b.Covers(t.Name) {
				read = append(read, t)
			}
		}
		if len(read) > 0 {
			out = append(out, c.finding(kindBinding, b.Principal, "name", "raw binding lets %s read restricted %s, with no place for an approval: write it as a grant (sk.consumer(..., approval='SEC-1234'))",
				b.Principal, names(read)))
		}
	}
	return out
}
