// team.jsonnet: who the pricing team is on the platform and what the
// platform team allows it. streamkit reads it from the repository root;
// the manifests folder it names holds the topics, schemas, ACL grants and
// connectors.
{
  // Every topic, consumer group, subject and connector of the team starts
  // with the namespace. `streamkit -namespace x.` deploys the same
  // manifests to a scratch namespace (the manifests read it as
  // std.extVar('ns')).
  namespace: 'pricing.',
  manifests: 'manifests',
  // The team's service accounts, User:<namespace><service>: ACL grants
  // may name only these.
  services: ['publisher', 'billing'],
  // Jsonnet external variables of the manifests; ns is the namespace.
  // data_dir is where the file connectors read and write on the workers;
  // db_* is the team's PostgreSQL database, whose changes the Debezium
  // connector captures (its password is in Vault at secret/pricing/db,
  // never here). The values are those of the local platform
  // (scripts/platform); point them at the team's own.
  ext_vars: {
    data_dir: '/tmp',
    db_host: '127.0.0.1',
    db_port: '5433',
    db_name: 'inventory',
    db_user: 'pricing_cdc',
    // The registry as the Connect workers' Avro converter reaches it
    // (Apicurio's v2 API).
    registry: 'http://127.0.0.1:8081/apis/registry/v2',
  },
  // What the platform team allows.
  policy: {
    topics: {
      min_partitions: 1,
      max_partitions: 48,
      min_replication_factor: 3,
      max_replication_factor: 3,
      max_retention: '2160h',  // 90 days
      cleanup_policies: ['delete', 'compact', 'compact,delete'],
    },
    connectors: { min_tasks: 1, max_tasks: 8 },
  },
}
