// ACL003: a consumer without groups does not expand to bindings.
local sk = import 'streamkit.libsonnet';

{
  acls: [sk.consumer('User:pricing-svc', ['pricing.existing.v1'], [])],
}
