// MANIFEST005 fixed: the inline schema only.
{
  schemas: [
    {
      subject: 'pricing.orders.v1-value',
      schema: std.manifestJsonMinified({
        type: 'record',
        name: 'Order',
        fields: [{ name: 'id', type: 'string', doc: 'Order ID.' }],
      }),
    },
  ],
}
