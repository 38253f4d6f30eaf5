local sk = import 'streamkit.libsonnet';

{
  acls: [
    sk.producer('User:pricing-svc', ['pricing.orders.v1']),
    sk.consumer('User:billing-svc', ['pricing.orders.v1', 'pricing.quotes.v2'], ['billing-pricing']),
    sk.admin('User:pricing-ops', 'pricing.'),
  ],
  bindings: [
    {
      principal: 'User:pricing-monitor',
      host: '*',
      resource: 'topic',
      name: 'pricing.',
      pattern: 'prefixed',
      operation: 'describe',
      permission: 'allow',
    },
  ],
}
