// ACL004: grants beyond the namespace "pricing": every topic, another
// team's topic, a prefix shorter than the namespace, another team's group.
local sk = import 'streamkit.libsonnet';

{
  acls: [
    sk.consumer('User:pricing-auditor', ['*'], ['pricing-auditor']),
    sk.producer('User:pricing-svc', ['pricing.existing.v1', 'billing.invoices.v1']),
    sk.admin('User:pricing-ops', 'pri'),
    sk.consumer('User:pricing-billing', ['pricing.existing.v1'], ['billing-svc']),
  ],
  bindings: [
    { principal: 'User:pricing-tx', resource: 'transactional_id', name: 'billing-tx', operation: 'write' },
  ],
}
