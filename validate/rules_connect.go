package validate

import (
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/redact"
	"github.com/streamkit/streamkit/internal/vaultref"
)

const kindConnector = "connector"

func connectorRules() []Rule {
	return []Rule{
		{
			ID: "CONN001", Severity: Error,
			Summary: "a connector names its connector.class",
			Doc: `Kafka Connect refuses a connector without connector.class.

Fails:  {name: "pricing-db-source", config: {"tasks.max": "1"}}
Passes: {name: "pricing-db-source", config: {"connector.class": "io.debezium.connector.postgresql.PostgresConnector", "tasks.max": "1"}}`,
			Check: forEachConnector(checkConnectorClass),
		},
		{
			ID: "CONN002", Severity: Error,
			Summary: "tasks.max is set to an integer within the platform's bounds",
			Doc: `tasks.max is how much of the Connect cluster a connector may take. It
must be written, be an integer of at least 1, and lie within the policy's
MinTasks and MaxTasks.

Fails:  "tasks.max": "lots"   (or missing, or above MaxTasks)
Passes: "tasks.max": "2"`,
			Check: forEachConnector(checkTasksMax),
		},
		{
			ID: "CONN003", Severity: Error,
			Summary: "a connector's name starts with the team's namespace",
			Doc: `Plans own only the connectors inside the namespace; a connector outside
it could neither be applied nor pruned.

Fails:  name "orders-sink" with namespace "pricing"
Passes: name "pricing-orders-sink"`,
			Check: forEachConnector(checkConnectorNamespace),
		},
		{
			ID: "CONN004", Severity: Error,
			Summary: "credential-like keys hold a config-provider reference, never a literal",
			Doc: `A password, secret, token, key or JAAS config written into a manifest is
in Git for ever. Reference it instead; the worker resolves it. In
sasl.jaas.config (or any *.jaas.config) each password-like attribute must
be a reference, and so must the password of a URL in any key's value:
user info (jdbc:mysql://app:pw@db/x) or a password parameter
(?password=, &password=, ;password= for SQL Server). A key that names a
setting about a credential, such as basic.auth.credentials.source or
sasl.mechanism, is not one. The finding never repeats the value.

Fails:  "database.password": "hunter2"
Fails:  "connection.url": "jdbc:postgresql://db:5432/pricing?user=app&password=hunter2"
Passes: "database.password": "${vault:secret/data/pricing/db:password}"
Passes: "connection.url": "jdbc:postgresql://db:5432/pricing?user=app&password=${vault:secret/data/pricing/db:password}"`,
			Check: forEachConnector(checkLiteralCredentials),
		},
		{
			ID: "CONN005", Severity: Error,
			Summary: "an Avro converter has its schema registry URL",
			Doc: `io.confluent.connect.avro.AvroConverter needs
<converter>.schema.registry.url; Apicurio's AvroConverter needs
<converter>.apicurio.registry.url. Without it every task fails at start.

Fails:  "value.converter": "io.confluent.connect.avro.AvroConverter"
Passes: the same plus "value.converter.schema.registry.url": "http://registry:8081"`,
			Check: forEachConnector(checkAvroConverters),
		},
		{
			ID: "CONN006", Severity: Error,
			Summary: "a sink tolerating all errors sends them to a dead letter queue",
			Doc: `errors.tolerance=all on a sink without errors.deadletterqueue.topic.name
drops every record it cannot convert or write, silently.

Fails:  "topics": "pricing.orders.v1", "errors.tolerance": "all"
Passes: the same plus "errors.deadletterqueue.topic.name": "pricing.orders.dlq.v1"`,
			Check: forEachConnector(checkDeadLetterQueue),
		},
		{
			ID: "CONN007", Severity: Error,
			Summary: "the topics a connector reads or writes exist",
			Doc: `Every topic of a sink's "topics" (comma-separated), and a FileStreamSource's
"topic", is declared in the manifest or known on the cluster
(Policy.ExistingTopics). A typo otherwise lets the connector run idle, or
auto-create a topic nobody owns.

Fails:  "topics": "pricing.ordres.v1"
Passes: "topics": "pricing.orders.v1" with topic pricing.orders.v1 declared`,
			Check: forEachConnector(checkConnectorTopics),
		},
		{
			ID: "CONN008", Severity: Error,
			Summary: "topics.regex is a valid regular expression",
			Doc: `A sink's topics.regex must compile. It is checked with Go's RE2 syntax,
a subset of Java's: a Java-only construct such as a lookahead is reported
too.

Fails:  "topics.regex": "pricing\\.(orders"
Passes: "topics.regex": "pricing\\.(orders|refunds)\\.v1"`,
			Check: forEachConnector(checkTopicsRegex),
		},
		{
			ID: "CONN009", Severity: Error,
			Summary: "${vault:...} references are well-formed",
			Doc: `A Vault reference is ${vault:<path>:<key>}; anything else reaches the
connector as literal text.

Fails:  "database.password": "${vault:secret/data/pricing/db}"
Passes: "database.password": "${vault:secret/data/pricing/db:password}"`,
			Check: forEachConnector(checkVaultRefs),
		},
		{
			ID: "CONN010", Severity: Error,
			Summary: "connector names are unique",
			Doc: `Two specs with one name would overwrite each other on every apply.

Fails:  two connectors named "pricing-db-source"
Passes: "pricing-db-source" and "pricing-db-sink"`,
			Check: checkDuplicateConnectors,
		},
		{
			ID: "CONN011", Severity: Error,
			Summary: "the topics a connector reads or writes are inside the team's namespace",
			Doc: `A connector's principal is granted the namespace's topics; a topic outside
it is another team's, or nobody's. Checked are what a sink reads (every
topic of "topics", and every topic "topics.regex" can match: the regex
must begin with the namespace literally) and its dead letter queue
(errors.deadletterqueue.topic.name), and what a source writes: "topic",
"kafka.topic", "topic.prefix" (Debezium's and the JDBC source's, which
every topic written starts with) and Debezium's schema history topic. A
${...} reference is resolved by the worker and not checked. MirrorMaker 2's
"topics" name topics of the source cluster, and are not checked.

Fails:  "topics": "orders.v1" with namespace "pricing"
Fails:  "topics.regex": ".*\.orders\.v1"
Passes: "topics": "pricing.orders.v1", "topics.regex": "pricing\.(orders|refunds)\.v1"`,
			Check: forEachConnector(checkConnectorTopicNamespace),
		},
		{
			ID: "CONN012", Severity: Error,
			Summary: "Apicurio's AvroConverter writes and reads the Confluent wire format",
			Doc: `streamkit's schema package, Confluent's serializers and the registry's
Confluent-compatible API speak one framing: a zero byte, the schema's
4-byte id as the ccompat API reports it (Apicurio's content id), then the
Avro body. Apicurio's own converter (2.x) does not by default: it puts the
id in headers, as an 8-byte global id. Each of its converters must set
<converter>.apicurio.registry.as-confluent=true,
<converter>.apicurio.registry.headers.enabled=false and
<converter>.apicurio.registry.use-id=contentId (sk.avro sets them).

Fails:  "value.converter": "io.apicurio.registry.utils.converter.AvroConverter" alone
Passes: the same plus the three settings above`,
			Check: forEachConnector(checkApicurioFraming),
		},
		{
			ID: "CONN013", Severity: Error,
			Summary: "a connector reads and writes Avro topics with an Avro converter",
			Doc: `A topic whose <topic>-value (or <topic>-key) subject is declared in the
manifests holds Avro records. A sink that reads it, or a source that
writes it (its "topic", "kafka.topic", or a Debezium topic under its
"topic.prefix"), with JsonConverter, StringConverter or a number
converter fails on its first record ("Tolerance exceeded in error
handler"), or writes records no Avro consumer can read.

Fails:  "value.converter": "org.apache.kafka.connect.json.JsonConverter" reading pricing.orders.v1
        with the subject pricing.orders.v1-value declared
Passes: an Avro converter (sk.avro), or ByteArrayConverter, which passes the bytes through`,
			Check: forEachConnector(checkConverterMatchesSchemas(true)),
		},
		{
			ID: "CONN014", Severity: Warning,
			Summary: "a connector of Avro topics names its converter",
			Doc: `A connector that reads or writes Avro topics (see CONN013) without
key.converter or value.converter gets the worker's default, which the
manifests cannot see (JsonConverter on the streamkit platform). Name it.

Fails:  a sink of pricing.orders.v1 (with pricing.orders.v1-value declared) without value.converter
Passes: the same with sk.avro(...) mixed in`,
			Check: forEachConnector(checkConverterMatchesSchemas(false)),
		},
	}
}

// forEachConnector turns a per-connector check into a rule's Check.
func forEachConnector(check func(*Context, connect.Spec) []Finding) func(*Context) []Finding {
	return func(c *Context) []Finding {
		var out []Finding
		for _, s := range c.Manifest.Connectors {
			out = append(out, check(c, s)...)
		}
		return out
	}
}

func checkConnectorClass(c *Context, s connect.Spec) []Finding {
	if strings.TrimSpace(s.Config["connector.class"]) != "" {
		return nil
	}
	return []Finding{c.finding(kindConnector, s.Name, "connector.class", "connector.class is missing")}
}

func checkTasksMax(c *Context, s connect.Spec) []Finding {
	const key = "tasks.max"
	v, ok := s.Config[key]
	if !ok {
		return []Finding{c.finding(kindConnector, s.Name, key, "tasks.max is missing")}
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	switch {
	case err != nil:
		return []Finding{c.finding(kindConnector, s.Name, key, "tasks.max %q is not an integer", v)}
	case n < 1:
		return []Finding{c.finding(kindConnector, s.Name, key, "tasks.max %d: want at least 1", n)}
	case c.Policy.MinTasks > 0 && n < c.Policy.MinTasks:
		return []Finding{c.finding(kindConnector, s.Name, key, "tasks.max %d, below the minimum %d", n, c.Policy.MinTasks)}
	case c.Policy.MaxTasks > 0 && n > c.Policy.MaxTasks:
		return []Finding{c.finding(kindConnector, s.Name, key, "tasks.max %d, above the maximum %d", n, c.Policy.MaxTasks)}
	}
	return nil
}

func checkConnectorNamespace(c *Context, s connect.Spec) []Finding {
	if c.Policy.inNamespace(s.Name) {
		return nil
	}
	return []Finding{c.finding(kindConnector, s.Name, "", "connector %q is outside the namespace %q", s.Name, c.Policy.Namespace)}
}

// jaasAttribute is one name="value" option of a JAAS login module.
var jaasAttribute = regexp.MustCompile(`([A-Za-z0-9_.-]+)\s*=\s*"([^"]*)"`)

// jaasSecretName reports whether a JAAS option holds a secret: password,
// clientSecret, token, and names ending in "key".
func jaasSecretName(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || strings.Contains(n, "secret") ||
		strings.Contains(n, "token") || strings.HasSuffix(n, "key")
}

// literalCredential reports whether v, the value of a credential-like key,
// holds a secret itself rather than a reference to one.
func literalCredential(key, v string) bool {
	if strings.TrimSpace(v) == "" || redact.IsPlaceholder(v) {
		return false
	}
	if strings.HasSuffix(strings.ToLower(key), "jaas.config") {
		// A JAAS config is mostly structure; only its secret options
		// must be references, as in password="${vault:...}".
		for _, m := range jaasAttribute.FindAllStringSubmatch(v, -1) {
			if jaasSecretName(m[1]) && m[2] != "" && !redact.IsPlaceholder(m[2]) {
				return true
			}
		}
		return false
	}
	return true
}

func checkLiteralCredentials(c *Context, s connect.Spec) []Finding {
	var out []Finding
	for _, k := range slices.Sorted(maps.Keys(s.Config)) {
		v := s.Config[k]
		// Never the value: findings are printed in CI logs.
		switch {
		case redact.SensitiveKey(k):
			if literalCredential(k, v) {
				out = append(out, c.finding(kindConnector, s.Name, k,
					"%s holds a literal credential: reference it instead, e.g. ${vault:secret/data/<team>/<secret>:<key>}", k))
			}
		case redact.URLPassword(v):
			out = append(out, c.finding(kindConnector, s.Name, k,
				"%s holds a literal credential in its URL: reference the password instead, e.g. password=${vault:secret/data/<team>/<secret>:<key>}", k))
		}
	}
	return out
}

// avroConverters maps an Avro converter class to the key, under the
// converter's prefix, that names its registry.
var avroConverters = map[string]string{
	"io.confluent.connect.avro.AvroConverter":            "schema.registry.url",
	"io.apicurio.registry.utils.converter.AvroConverter": "apicurio.registry.url",
}

func checkAvroConverters(c *Context, s connect.Spec) []Finding {
	var out []Finding
	for _, conv := range []string{"key.converter", "value.converter"} {
		class := strings.TrimSpace(s.Config[conv])
		urlKey, ok := avroConverters[class]
		if !ok {
			continue
		}
		if strings.TrimSpace(s.Config[conv+"."+urlKey]) != "" {
			continue
		}
		out = append(out, c.finding(kindConnector, s.Name, conv,
			"%s is %s but %s.%s is not set", conv, class[strings.LastIndex(class, ".")+1:], conv, urlKey))
	}
	return out
}

// apicurioAvro is Apicurio's Avro converter class.
const apicurioAvro = "io.apicurio.registry.utils.converter.AvroConverter"

// apicurioConfluent are the settings under an Apicurio converter's prefix
// that make it speak the Confluent framing, with their values.
var apicurioConfluent = [][2]string{
	{"apicurio.registry.as-confluent", "true"},
	{"apicurio.registry.headers.enabled", "false"},
	{"apicurio.registry.use-id", "contentId"},
}

func checkApicurioFraming(c *Context, s connect.Spec) []Finding {
	var out []Finding
	for _, conv := range []string{"key.converter", "value.converter"} {
		if strings.TrimSpace(s.Config[conv]) != apicurioAvro {
			continue
		}
		for _, kv := range apicurioConfluent {
			key := conv + "." + kv[0]
			got, set := s.Config[key]
			switch {
			case !set:
				out = append(out, c.finding(kindConnector, s.Name, conv,
					"%s is Apicurio's AvroConverter without %s=%s: its records are not in the Confluent wire format streamkit reads", conv, key, kv[1]))
			case !strings.EqualFold(strings.TrimSpace(got), kv[1]):
				out = append(out, c.finding(kindConnector, s.Name, key,
					"%s is %q, want %q: the records would not be in the Confluent wire format streamkit reads", key, got, kv[1]))
			}
		}
	}
	return out
}

// notAvro are converters that cannot read or write Avro records:
// ByteArrayConverter is not one, it passes the bytes through.
var notAvro = map[string]bool{
	"org.apache.kafka.connect.json.JsonConverter":          true,
	"org.apache.kafka.connect.storage.StringConverter":     true,
	"org.apache.kafka.connect.converters.IntegerConverter": true,
	"org.apache.kafka.connect.converters.LongConverter":    true,
	"org.apache.kafka.connect.converters.ShortConverter":   true,
	"org.apache.kafka.connect.converters.FloatConverter":   true,
	"org.apache.kafka.connect.converters.DoubleConverter":  true,
	"org.apache.kafka.connect.converters.BooleanConverter": true,
}

// checkConverterMatchesSchemas returns CONN013's check (set: a named
// converter that cannot handle Avro) or CONN014's (!set: no converter
// named for Avro topics).
func checkConverterMatchesSchemas(set bool) func(*Context, connect.Spec) []Finding {
	return func(c *Context, s connect.Spec) []Finding {
		subjects := map[string]bool{}
		for _, sc := range c.Manifest.Schemas {
			subjects[sc.Subject] = true
		}
		topics := connectorAvroTopics(c, s, subjects)
		var out []Finding
		for _, part := range []string{"key", "value"} {
			conv := part + ".converter"
			var avro []string
			for _, t := range topics {
				if subjects[t+"-"+part] {
					avro = append(avro, t)
				}
			}
			if len(avro) == 0 {
				continue
			}
			class, named := s.Config[conv]
			class = strings.TrimSpace(class)
			switch {
			case set && named && notAvro[class]:
				out = append(out, c.finding(kindConnector, s.Name, conv,
					"%s is %s, but the %ss of %s are Avro (subject %s-%s): every record would fail; use an Avro converter (sk.avro)",
					conv, class[strings.LastIndex(class, ".")+1:], part, strings.Join(avro, ", "), avro[0], part))
			case !set && !named:
				out = append(out, c.finding(kindConnector, s.Name, "",
					"no %s, but the %ss of %s are Avro (subject %s-%s): the worker's default converter decides (JsonConverter on the streamkit platform); name an Avro converter (sk.avro)",
					conv, part, strings.Join(avro, ", "), avro[0], part))
			}
		}
		return out
	}
}

// connectorAvroTopics are the topics s reads (a sink's "topics") or writes
// (a source's "topic" or "kafka.topic", and, under a "topic.prefix", every
// topic with a subject declared), that have a subject in subjects.
func connectorAvroTopics(c *Context, s connect.Spec, subjects map[string]bool) []string {
	var out []string
	add := func(t string) {
		t = strings.TrimSpace(t)
		if t != "" && !strings.Contains(t, "${") && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if isSink(s) {
		for t := range strings.SplitSeq(s.Config["topics"], ",") {
			add(t)
		}
		return out
	}
	add(s.Config["topic"])
	add(s.Config["kafka.topic"])
	if prefix := strings.TrimSpace(s.Config["topic.prefix"]); prefix != "" {
		for subject := range subjects {
			if t, ok := strings.CutSuffix(subject, "-value"); ok && strings.HasPrefix(t, prefix+".") {
				add(t)
			}
			if t, ok := strings.CutSuffix(subject, "-key"); ok && strings.HasPrefix(t, prefix+".") {
				add(t)
			}
		}
		slices.Sort(out)
	}
	return out
}

// isSink reports whether a connector consumes from Kafka: by its class, or
// by a "topics" or "topics.regex" key on a class not named as a source
// (MirrorSourceConnector's "topics" lists the topics it replicates).
func isSink(s connect.Spec) bool {
	class := s.Config["connector.class"]
	if strings.HasSuffix(class, "FileStreamSink") || strings.HasSuffix(class, "SinkConnector") {
		return true
	}
	if strings.HasSuffix(class, "Source") || strings.HasSuffix(class, "SourceConnector") {
		return false
	}
	_, topics := s.Config["topics"]
	_, regex := s.Config["topics.regex"]
	return topics || regex
}

// isFileSource reports whether a connector is Kafka's FileStreamSource,
// whose "topic" is the one it writes.
func isFileSource(s connect.Spec) bool {
	class := s.Config["connector.class"]
	return strings.HasSuffix(class, "FileStreamSource") || strings.HasSuffix(class, "FileStreamSourceConnector")
}

func checkDeadLetterQueue(c *Context, s connect.Spec) []Finding {
	if !isSink(s) || !strings.EqualFold(strings.TrimSpace(s.Config["errors.tolerance"]), "all") {
		return nil
	}
	if strings.TrimSpace(s.Config["errors.deadletterqueue.topic.name"]) != "" {
		return nil
	}
	return []Finding{c.finding(kindConnector, s.Name, "errors.tolerance",
		"errors.tolerance=all on a sink without errors.deadletterqueue.topic.name drops failed records silently")}
}

func checkConnectorTopics(c *Context, s connect.Spec) []Finding {
	var out []Finding
	check := func(key, list string) {
		for t := range strings.SplitSeq(list, ",") {
			t = strings.TrimSpace(t)
			// A reference is resolved by the worker, not here.
			if t == "" || strings.Contains(t, "${") || c.topicKnown(t) {
				continue
			}
			out = append(out, c.finding(kindConnector, s.Name, key,
				"topic %q is neither declared in the manifest nor known on the cluster", t))
		}
	}
	if v, ok := s.Config["topics"]; ok && isSink(s) {
		check("topics", v)
	}
	if v, ok := s.Config["topic"]; ok && isFileSource(s) {
		check("topic", v)
	}
	return out
}

func checkTopicsRegex(c *Context, s connect.Spec) []Finding {
	v, ok := s.Config["topics.regex"]
	if !ok {
		return nil
	}
	if _, err := regexp.Compile(v); err != nil {
		return []Finding{c.finding(kindConnector, s.Name, "topics.regex", "topics.regex does not compile: %v", err)}
	}
	return nil
}

func checkVaultRefs(c *Context, s connect.Spec) []Finding {
	var out []Finding
	for _, k := range slices.Sorted(maps.Keys(s.Config)) {
		v := s.Config[k]
		if !strings.Contains(v, "${vault:") {
			continue
		}
		// One key at a time, so each finding names its key; the error
		// quotes only the reference, never a resolved secret.
		if _, err := vaultref.Find(map[string]string{k: v}); err != nil {
			out = append(out, c.finding(kindConnector, s.Name, k, "%v", err))
		}
	}
	return out
}

// writtenTopicKeys name the one topic a source connector writes.
var writtenTopicKeys = []string{
	"topic", "kafka.topic",
	// Debezium's schema history (2.x, and 1.x's database history).
	"schema.history.internal.kafka.topic", "database.history.kafka.topic",
}

func checkConnectorTopicNamespace(c *Context, s connect.Spec) []Finding {
	ns := c.Policy.Namespace
	if ns == "" || isMirror(s.Config["connector.class"]) {
		return nil
	}
	var out []Finding
	outside := func(key, what, topic string) {
		t := strings.TrimSpace(topic)
		if t == "" || strings.Contains(t, "${") || c.Policy.inNamespace(t) {
			return
		}
		out = append(out, c.finding(kindConnector, s.Name, key, "%s %q is outside the namespace %q", what, t, ns))
	}
	if isSink(s) {
		if v, ok := s.Config["topics"]; ok {
			for t := range strings.SplitSeq(v, ",") {
				outside("topics", "topic", t)
			}
		}
		if v, ok := s.Config["topics.regex"]; ok && !strings.Contains(v, "${") {
			// A regex that does not compile is CONN008's.
			if re, err := syntax.Parse(v, syntax.Perl); err == nil {
				if prefix, _ := regexPrefix(re); !c.Policy.inNamespace(prefix) {
					out = append(out, c.finding(kindConnector, s.Name, "topics.regex",
						"topics.regex %q can match topics outside the namespace %q: begin it with %s", v, ns, regexp.QuoteMeta(ns)))
				}
			}
		}
		outside("errors.deadletterqueue.topic.name", "dead letter queue topic", s.Config["errors.deadletterqueue.topic.name"])
		return out
	}
	for _, k := range writtenTopicKeys {
		outside(k, "topic", s.Config[k])
	}
	// Every topic written starts with the prefix, so the prefix itself
	// must start with the namespace.
	outside("topic.prefix", "topic prefix", s.Config["topic.prefix"])
	return out
}

// regexPrefix returns the literal text that every string re matches in
// full begins with ("pricing." for pricing\..*), as Kafka matches
// topics.regex against a whole topic name, and whether re matches that
// text alone. Anchors match no text; a case-insensitive literal or a class
// of several characters ends the prefix.
func regexPrefix(re *syntax.Regexp) (prefix string, complete bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpBeginText, syntax.OpEndLine, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return "", true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return "", false
		}
		return string(re.Rune), true
	case syntax.OpCharClass:
		if len(re.Rune) == 2 && re.Rune[0] == re.Rune[1] {
			return string(re.Rune[0]), true
		}
		return "", false
	case syntax.OpCapture:
		return regexPrefix(re.Sub[0])
	case syntax.OpPlus:
		// At least once: the prefix of one, never the whole.
		p, _ := regexPrefix(re.Sub[0])
		return p, false
	case syntax.OpConcat:
		var b strings.Builder
		for _, sub := range re.Sub {
			p, full := regexPrefix(sub)
			b.WriteString(p)
			if !full {
				return b.String(), false
			}
		}
		return b.String(), true
	case syntax.OpAlternate:
		common, complete := regexPrefix(re.Sub[0])
		for _, sub := range re.Sub[1:] {
			p, full := regexPrefix(sub)
			complete = complete && full && p == common
			n := 0
			for n < len(common) && n < len(p) && common[n] == p[n] {
				n++
			}
			common = common[:n]
		}
		return common, complete
	}
	return "", false
}

func checkDuplicateConnectors(c *Context) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, s := range c.Manifest.Connectors {
		if seen[s.Name] {
			out = append(out, c.finding(kindConnector, s.Name, "", "connector %q is declared more than once", s.Name))
		}
		seen[s.Name] = true
	}
	return out
}
