// SCHEMA002: a namespace that is not dot-separated Avro names. The name is
// fully qualified, so Avro parsers ignore the namespace attribute and
// SCHEMA001 passes; other tools read it and refuse it.
{
  schemas: [
    {
      subject: 'pricing.orders.v1-value',
      schema: '{"type": "record", "name": "com.acme.OrderV1", "namespace": "com.acme.", "fields": []}',
    },
  ],
}
