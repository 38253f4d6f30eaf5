// CONN010: two connectors with one name.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSource('pricing-file-source', '/data/orders.txt', 'pricing.existing.v1'),
    sk.fileSource('pricing-file-source', '/data/quotes.txt', 'pricing.existing.v1'),
  ],
}
