// CONN003: a connector outside the namespace "pricing".
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSource('orders-file-source', '/data/in.txt', 'pricing.existing.v1'),
  ],
}
