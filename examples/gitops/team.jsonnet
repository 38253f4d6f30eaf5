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
  ext_vars: { data_dir: '/tmp' },
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
