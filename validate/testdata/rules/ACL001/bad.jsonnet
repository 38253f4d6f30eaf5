// ACL001: a bare principal name.
local sk = import 'streamkit.libsonnet';

{
  acls: [sk.producer('pricing-svc', ['pricing.existing.v1'])],
}
