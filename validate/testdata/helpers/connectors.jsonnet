local sk = import 'streamkit.libsonnet';
local p = import 'pricing.libsonnet';
local jdbcSink(short, password) = {
  name: p.name(short),
  config: {
    'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector',
    'connection.password': password,
    'tasks.max': '1',
  },
};

{
  connectors: [
    { name: p.name('leaky-sink'), config: { 'connector.class': 'FileStreamSink', 'database.password': 'hunter2' } },
    sk.fileSink(p.name('prices-sink'), [p.name('prices.v1')], p.dataDir + '/prices-out.txt'),
    sk.fileSource(p.name('quotes-source'), p.dataDir + '/quotes.txt', p.name('quotes.v1')) + {
      config+: { 'tasks.max': '2' },
    },
    jdbcSink('orders-sink', 'hunter2'),
  ],
}
