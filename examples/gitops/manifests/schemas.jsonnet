// Value schemas, registered under <topic>-value (the topic name strategy).
// The .avsc file is the source of truth: plan shows a new version with its
// diff and the registry's compatibility answer, and reports drift when the
// registry's latest version is not this file.
local p = import 'pricing.libsonnet';

{
  schemas: [
    { subject: p.name('prices.v1-value'), file: 'price.avsc', compatibility: 'BACKWARD' },
  ],
}
