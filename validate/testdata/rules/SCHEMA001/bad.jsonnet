// SCHEMA001: a record without fields is not valid Avro.
{
  schemas: [
    { subject: 'pricing.orders.v1-value', schema: '{"type": "record", "name": "Order"}' },
  ],
}
