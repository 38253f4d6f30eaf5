// Connectors as code. Keep secrets out of git: a credential is a
// config-provider reference the worker resolves, never a literal, e.g.
//
//   sk.debeziumPostgres(p.name('db-source'), 'pricing-db', 5432, 'pricing', 'debezium',
//                       '${vault:secret/data/pricing/db:password}', p.name('db'), ['public.prices']),
//
// (this worker has no vault config provider, so the template deploys only
// the file connectors below).
local sk = import 'streamkit.libsonnet';
local p = import 'pricing.libsonnet';

{
  connectors: [
    // Lines appended to quotes.txt become records of quotes.v1.
    sk.fileSource(p.name('quotes-source'), p.dataDir + '/quotes.txt', p.name('quotes.v1')),
    // Records of prices.v1 are appended to prices-out.txt.
    sk.fileSink(p.name('prices-sink'), [p.name('prices.v1')], p.dataDir + '/prices-out.txt'),
  ],
}
