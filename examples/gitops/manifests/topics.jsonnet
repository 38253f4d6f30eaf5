// The team's topics. Apply creates them, grows partitions and fixes config
// drift; apply -prune also deletes topics of the namespace that are no
// longer listed here (refusing, without -force, ones still in use).
local sk = import 'streamkit.libsonnet';
local p = import 'pricing.libsonnet';

{
  topics: [
    p.event('prices', partitions=6),
    p.event('quotes'),
    p.event('audit', partitions=1, configs={ 'retention.ms': 30 * 24 * 3600 * 1000 }),
    // The change events of the prices table, written by the db-source
    // connector: one topic per table, <topic.prefix>.<schema>.<table>.
    sk.topic(p.name('db.public.prices'), partitions=3),
  ],
}
