// CONN002 fixed: tasks.max within 1..8.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSource('pricing-file-source', '/data/in.txt', 'pricing.existing.v1') + {
      config+: { 'tasks.max': '4' },
    },
  ],
}
