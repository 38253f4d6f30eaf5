local p = import '../pricing.libsonnet';

{
  topics: [p.event('shared')],
  // base is a manifest other manifests add to.
  base: { topics: [p.event('base2')] },
  mirror: {
    name: p.name('mirror'),
    config: {
      'connector.class': 'org.apache.kafka.connect.mirror.MirrorSourceConnector',
      'source.cluster.alias': 'legacy',
    },
  },
}
