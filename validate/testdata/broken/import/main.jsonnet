local team = import 'lib/team.libsonnet';

{
  topics: [team.event('orders')],
}
