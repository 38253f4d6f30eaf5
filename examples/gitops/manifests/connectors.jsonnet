// Connectors as code. Keep secrets out of git: a credential is a
// ${vault:...} reference (p.secret), never a literal. streamkit writes the
// secret from Vault to the workers' secrets folder and gives the worker a
// ${dir:...} placeholder of that file, so neither git nor Connect's config
// topic ever holds the password.
local sk = import 'streamkit.libsonnet';
local p = import 'pricing.libsonnet';

{
  connectors: [
    // Lines appended to quotes.txt become records of quotes.v1.
    sk.fileSource(p.name('quotes-source'), p.dataDir + '/quotes.txt', p.name('quotes.v1')),
    // Records of prices.v1, Avro that the publisher writes with
    // schema.Producer, are appended to prices-out.txt.
    sk.fileSink(p.name('prices-sink'), [p.name('prices.v1')], p.dataDir + '/prices-out.txt') + p.avroValues,
    // Every change of the prices table becomes a record of
    // <namespace>db.public.prices (declared in topics.jsonnet).
    sk.debeziumPostgres(p.name('db-source'), p.db.host, p.db.port, p.db.name, p.db.user,
                        p.secret('db', 'password'), p.name('db'), ['public.prices']),
  ],
}
