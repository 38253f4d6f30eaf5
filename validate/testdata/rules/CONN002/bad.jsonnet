// CONN002: tasks.max above the policy's MaxTasks (8).
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSource('pricing-file-source', '/data/in.txt', 'pricing.existing.v1') + {
      config+: { 'tasks.max': '16' },
    },
  ],
}
