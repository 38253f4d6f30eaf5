{
  schemas: [
    { subject: 'pricing.orders.v1-value', file: 'orders.avsc' },
    {
      subject: 'pricing.quotes.v2-value',
      schema: std.manifestJsonMinified({ type: 'record', name: 'Quote', fields: [{ name: 'id', type: 'string' }] }),
    },
  ],
}
