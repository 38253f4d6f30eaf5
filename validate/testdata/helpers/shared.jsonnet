// Resources taken whole from another team library.
local shared = import 'lib/shared.libsonnet';

{
  topics: shared.topics,
  connectors: [shared.mirror],
}
