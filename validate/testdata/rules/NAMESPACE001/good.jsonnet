// NAMESPACE001 fixed: the helper is given the short name.
local sk = import 'streamkit.libsonnet';
local name(short) = 'pricing.' + short;

{
  topics: [sk.topic(name('prices.v1'))],
  acls: [sk.producer('User:pricing-svc', [name('prices.v1')])],
}
