// ACL001 fixed: Type:name.
local sk = import 'streamkit.libsonnet';

{
  acls: [sk.producer('User:pricing-svc', ['pricing.existing.v1'])],
}
