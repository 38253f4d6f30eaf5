// streamkit.libsonnet: helpers for a team's streamkit manifests.
//
//   local sk = import 'streamkit.libsonnet';
//   {
//     topics: [sk.topic('pricing.orders.v1', partitions=6)],
//     acls: [sk.producer('User:pricing-svc', ['pricing.orders.v1'])],
//     connectors: [sk.fileSource('pricing-file-source', '/data/in.txt', 'pricing.orders.v1')],
//   }
//
// Every helper returns a plain object shaped like the Go types the
// manifest decodes into (topics.Spec, topics.Grant, connect.Spec), so a
// team can extend a result with `+ { ... }`. Config values are strings, as
// Kafka and Kafka Connect take them; numbers and booleans given to a helper
// are turned into strings.
local str(v) = if std.isString(v) then v else std.toString(v);
local strings(o) = { [k]: str(o[k]) for k in std.objectFields(o) };
local list(v) = if std.isArray(v) then v else [v];
local csv(v) = std.join(',', std.map(str, list(v)));
local nonEmpty(what, v) =
  assert std.isString(v) && v != '' : what + ' must be a non-empty string';
  v;

{
  // topic is a topics.Spec. Replication 3 keeps two in-sync replicas
  // required (min.insync.replicas=2), so one broker may be down without
  // losing acknowledged writes; configs override the defaults.
  // The asserts are the function's, not the object's, so that a failure
  // is reported at the team's call.
  // classification is the data's level under the team's data policy
  // (e.g. 'restricted'); the CLI applies the topic to a cluster that may
  // hold it.
  topic(name, partitions=3, replication=3, configs={}, classification=null)::
    assert std.isNumber(partitions) && partitions >= 1 && std.floor(partitions) == partitions :
           'topic %s: partitions must be a whole number >= 1, got %s' % [name, partitions];
    assert std.isNumber(replication) && replication >= 1 && std.floor(replication) == replication :
           'topic %s: replication must be a whole number >= 1, got %s' % [name, replication];
    {
      name: nonEmpty('topic name', name),
      partitions: partitions,
      replication_factor: replication,
      configs: {
        'cleanup.policy': 'delete',
        'min.insync.replicas': if replication >= 3 then '2' else '1',
      } + strings(configs),
    } + (if classification == null then {} else { classification: nonEmpty('classification', classification) }),

  // producer may write and describe topics (names, or prefixes ending in *).
  producer(principal, topics):: {
    principal: nonEmpty('principal', principal),
    role: 'producer',
    topics: list(topics),
  },

  // consumer may read topics and join and commit in groups. A consumer of
  // restricted data names the approval that allows it (e.g. 'SEC-1234').
  consumer(principal, topics, groups, approval=null):: {
    principal: nonEmpty('principal', principal),
    role: 'consumer',
    topics: list(topics),
    groups: list(groups),
  } + (if approval == null then {} else { approval: nonEmpty('approval', approval) }),

  // admin may do anything to the topics and groups starting with prefix,
  // e.g. admin('User:pricing-ops', 'pricing.').
  admin(principal, prefix):: {
    local p = nonEmpty('admin prefix', prefix),
    local pattern = if std.endsWith(p, '*') then p else p + '*',
    principal: nonEmpty('principal', principal),
    role: 'admin',
    topics: [pattern],
    groups: [pattern],
  },

  // connector is a connect.Spec of any class; the templates below use it.
  connector(name, class, config={}):: {
    name: nonEmpty('connector name', name),
    config: { 'connector.class': class, 'tasks.max': '1' } + strings(config),
  },

  // avro is a mixin that makes a connector's values, and with keys=true
  // its keys, Avro records in the Confluent wire format: the records
  // schema.Producer writes and schema.Consumer reads. It sets Apicurio's
  // AvroConverter against the registry's Apicurio v2 API at registryURL
  // (e.g. 'http://registry:8080/apis/registry/v2'), with the ids in the
  // payload as the Confluent-compatible API numbers them (rule CONN012).
  // A source registers the schemas it writes under <topic>-value and
  // <topic>-key. Keys written by schema.Producer are plain bytes: a sink
  // of them takes keys=false and a key.converter of its own.
  //   sk.fileSink(...) + sk.avro('http://registry:8080/apis/registry/v2', keys=false)
  avro(registryURL, keys=true)::
    local conv(prefix) = {
      [prefix]: 'io.apicurio.registry.utils.converter.AvroConverter',
      [prefix + '.apicurio.registry.url']: nonEmpty('registry URL', registryURL),
      [prefix + '.apicurio.registry.auto-register']: 'true',
      [prefix + '.apicurio.registry.as-confluent']: 'true',
      [prefix + '.apicurio.registry.headers.enabled']: 'false',
      [prefix + '.apicurio.registry.use-id']: 'contentId',
    };
    { config+: conv('value.converter') + (if keys then conv('key.converter') else {}) },

  // fileSource streams the lines of file into topic.
  fileSource(name, file, topic)::
    self.connector(name, 'org.apache.kafka.connect.file.FileStreamSourceConnector', {
      file: nonEmpty('file', file),
      topic: nonEmpty('topic', topic),
    }),

  // fileSink appends the records of topics to file.
  fileSink(name, topics, file)::
    self.connector(name, 'org.apache.kafka.connect.file.FileStreamSinkConnector', {
      topics: csv(topics),
      file: nonEmpty('file', file),
    }),

  // mirrorSource copies topics (names or regexes) from the cluster called
  // sourceAlias into the cluster the Connect workers run against.
  mirrorSource(name, sourceAlias, sourceBootstrap, targetBootstrap, topics)::
    self.connector(name, 'org.apache.kafka.connect.mirror.MirrorSourceConnector', {
      'source.cluster.alias': nonEmpty('source alias', sourceAlias),
      'source.cluster.bootstrap.servers': csv(sourceBootstrap),
      'target.cluster.bootstrap.servers': csv(targetBootstrap),
      topics: csv(topics),
      'sync.topic.acls.enabled': 'false',
      'refresh.topics.interval.seconds': '60',
    }),

  // debeziumPostgres captures the changes of tables into topics named
  // <prefix>.<schema>.<table>. passwordRef must be a config-provider
  // placeholder such as ${vault:secret/data/pricing-db:password}: a
  // literal password in a manifest would end up in git.
  debeziumPostgres(name, host, port, db, user, passwordRef, prefix, tables)::
    local ident = std.strReplace(std.strReplace(name, '-', '_'), '.', '_');
    assert std.isString(passwordRef) && std.startsWith(passwordRef, '${') :
           'connector %s: passwordRef must be a config-provider placeholder such as ${vault:path:key}, not a literal password' % name;
    self.connector(name, 'io.debezium.connector.postgresql.PostgresConnector', {
      'database.hostname': nonEmpty('host', host),
      'database.port': str(port),
      'database.dbname': nonEmpty('db', db),
      'database.user': nonEmpty('user', user),
      'database.password': passwordRef,
      'topic.prefix': nonEmpty('prefix', prefix),
      'table.include.list': csv(tables),
      'plugin.name': 'pgoutput',
      // The slot and the publication are the connector's own: two
      // connectors on one database must not share Debezium's defaults.
      'slot.name': ident,
      'publication.name': ident,
      'publication.autocreate.mode': 'filtered',
    }),
}
