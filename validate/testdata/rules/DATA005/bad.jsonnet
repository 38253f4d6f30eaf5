// DATA005: a consumer of restricted data, by name and by prefix, without an
// approval; a raw binding that reads it.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.cards.v1', classification='restricted'),
    sk.topic('pricing.prices.v1', classification='internal'),
  ],
  acls: [
    sk.consumer('User:pricing-analytics', ['pricing.cards.v1'], ['pricing-analytics']),
    sk.consumer('User:pricing-audit', ['pricing.*'], ['pricing-audit']),
    sk.producer('User:pricing-publisher', ['pricing.cards.v1']),
  ],
  bindings: [
    { principal: 'User:pricing-raw', resource: 'topic', name: 'pricing.cards.v1', operation: 'read', permission: 'allow' },
    { principal: 'User:pricing-raw', resource: 'topic', name: 'pricing.cards.v1', operation: 'write', permission: 'allow' },
    { principal: 'User:pricing-raw2', resource: 'To-pic', name: 'pricing.cards.', pattern: 'prefixed', operation: 'all' },
  ],
}
