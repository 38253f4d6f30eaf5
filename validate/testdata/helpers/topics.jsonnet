local sk = import 'streamkit.libsonnet';
local p = import 'pricing.libsonnet';
local audit = [p.event('audit', partitions=1)];

{
  topics: [
    p.event('prices', partitions=6),
    p.event('quotes', configs={ 'retention.ms': 3600000 }),
    sk.topic(p.name('orders.v1')) + {
      configs+: { 'cleanup.policy': 'compact' },
    },
    { name: p.name('ledger.v1'), partitions: 3, replication_factor: 3, configs: { 'retention.ms': '-1' } },
  ] + audit + [
    sk.topic(p.name(t + '.v1'), configs={ 'segment.ms': '60000' })
    for t in ['fx', 'tax']
  ] + (if std.extVar('env') == 'prod' then [p.event('prod-only')] else []),
}
