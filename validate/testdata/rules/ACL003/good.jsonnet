// ACL003 fixed: the consumer names its group.
local sk = import 'streamkit.libsonnet';

{
  acls: [sk.consumer('User:pricing-svc', ['pricing.existing.v1'], ['pricing-svc'])],
}
