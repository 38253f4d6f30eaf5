// CONN003 fixed: the name starts with the namespace.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSource('pricing-orders-file-source', '/data/in.txt', 'pricing.existing.v1'),
  ],
}
