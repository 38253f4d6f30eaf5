{
  acls: [import 'missing.libsonnet'],
}
