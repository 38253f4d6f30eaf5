// NAMESPACE001 (warning): a team helper prefixes names that already hold the namespace.
local sk = import 'streamkit.libsonnet';
local name(short) = 'pricing.' + short;

{
  topics: [sk.topic(name('pricing.prices.v1'))],
  acls: [sk.producer('User:pricing-svc', [name('pricing.prices.v1')])],
}
