// DATA005 fixed: each reader of restricted data names its approval.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.cards.v1', classification='restricted'),
    sk.topic('pricing.prices.v1', classification='internal'),
  ],
  acls: [
    sk.consumer('User:pricing-analytics', ['pricing.cards.v1'], ['pricing-analytics'], approval='SEC-1234'),
    sk.consumer('User:pricing-audit', ['pricing.*'], ['pricing-audit']) + { approval: 'SEC-1240' },
    sk.producer('User:pricing-publisher', ['pricing.cards.v1']),
  ],
  bindings: [
    { principal: 'User:pricing-raw', resource: 'topic', name: 'pricing.cards.v1', operation: 'write', permission: 'allow' },
  ],
}
