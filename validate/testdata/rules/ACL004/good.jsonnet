// ACL004 fixed: every topic, group and transactional ID starts with the namespace.
local sk = import 'streamkit.libsonnet';

{
  acls: [
    sk.consumer('User:pricing-auditor', ['pricing.*'], ['pricing-auditor']),
    sk.producer('User:pricing-svc', ['pricing.existing.v1']),
    sk.admin('User:pricing-ops', 'pricing.'),
    sk.consumer('User:pricing-billing', ['pricing.existing.v1'], ['pricing-billing']),
  ],
  bindings: [
    { principal: 'User:pricing-tx', resource: 'transactional_id', name: 'pricing-tx', operation: 'write' },
    { principal: 'User:pricing-tx', resource: 'cluster', name: 'kafka-cluster', operation: 'idempotent_write' },
  ],
}
