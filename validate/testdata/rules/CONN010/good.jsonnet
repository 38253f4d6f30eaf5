// CONN010 fixed: the names differ.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSource('pricing-file-source', '/data/orders.txt', 'pricing.existing.v1'),
    sk.fileSource('pricing-quotes-file-source', '/data/quotes.txt', 'pricing.existing.v1'),
  ],
}
