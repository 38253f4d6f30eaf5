local p = import 'pricing.libsonnet';

{ topics: [p.event('base')] }
+ { topics+: [p.event('more', partitions=2)] }
