// SCHEMA003 (info): a record field without a doc.
{
  schemas: [
    {
      subject: 'pricing.orders.v1-value',
      schema: std.manifestJsonMinified({
        type: 'record',
        name: 'Order',
        fields: [
          { name: 'id', type: 'string', doc: 'Order ID.' },
          { name: 'amount', type: 'long' },
        ],
      }),
    },
  ],
}
