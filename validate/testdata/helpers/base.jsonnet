// A manifest that adds to another team library's.
local p = import 'pricing.libsonnet';
local shared = import 'lib/shared.libsonnet';

shared.base + {
  topics+: [p.event('extra')],
}
