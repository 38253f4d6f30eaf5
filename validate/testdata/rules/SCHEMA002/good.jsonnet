// SCHEMA002 fixed: a well-formed namespace.
{
  schemas: [
    {
      subject: 'pricing.orders.v1-value',
      schema: '{"type": "record", "name": "com.acme.OrderV1", "namespace": "com.acme", "fields": []}',
    },
  ],
}
