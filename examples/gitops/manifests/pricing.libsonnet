// pricing.libsonnet: the pricing team's own helpers on top of
// streamkit.libsonnet. Every name is built from the namespace the program
// passes as the external variable ns (default "pricing."), so the same
// manifests deploy to a scratch namespace in tests.
local sk = import 'streamkit.libsonnet';
local ns = std.extVar('ns');

{
  ns: ns,
  // name prefixes a short name with the team's namespace.
  name(short):: ns + short,
  // event is a versioned event topic: pricing.<dataset>.v<version>.
  event(dataset, version=1, partitions=3, configs={})::
    sk.topic(ns + dataset + '.v' + version, partitions=partitions, configs={
      'retention.ms': 7 * 24 * 3600 * 1000,
    } + configs),
  // principal is a service account of the team.
  principal(service):: 'User:' + ns + service,
  // dataDir is where the file connectors read and write on the worker.
  dataDir:: std.extVar('data_dir'),
  // avroValues is a mixin for a sink of records a Go service wrote with
  // schema.Producer: Avro values in the Confluent wire format, keys as
  // text.
  avroValues:: sk.avro(std.extVar('registry'), keys=false) + {
    config+: { 'key.converter': 'org.apache.kafka.connect.storage.StringConverter' },
  },
  // db is the team's database, as the team file's ext_vars name it.
  db:: {
    host: std.extVar('db_host'),
    port: std.extVar('db_port'),
    name: std.extVar('db_name'),
    user: std.extVar('db_user'),
  },
  // secret is a reference to key of the team's Vault secret short, in
  // the KV v2 mount secret/ at pricing/<short>: streamkit writes its value
  // to the connector workers' secrets folder and gives the worker only a
  // placeholder of that file.
  secret(short, key):: '${vault:secret/data/' + std.rstripChars(ns, '.-_') + '/' + short + ':' + key + '}',
}
