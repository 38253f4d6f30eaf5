// SCHEMA001 fixed: the record has its fields.
{
  schemas: [
    { subject: 'pricing.orders.v1-value', schema: '{"type": "record", "name": "Order", "fields": []}' },
  ],
}
