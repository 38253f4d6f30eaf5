// SCHEMA003 fixed: every field has a doc.
{
  schemas: [
    {
      subject: 'pricing.orders.v1-value',
      schema: std.manifestJsonMinified({
        type: 'record',
        name: 'Order',
        fields: [
          { name: 'id', type: 'string', doc: 'Order ID.' },
          { name: 'amount', type: 'long', doc: 'Order total in cents.' },
        ],
      }),
    },
  ],
}
