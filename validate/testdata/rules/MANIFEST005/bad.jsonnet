// MANIFEST005 (warning): both schema and file; the inline schema wins and the file is ignored.
{
  schemas: [
    {
      subject: 'pricing.orders.v1-value',
      file: 'orders.avsc',
      schema: std.manifestJsonMinified({
        type: 'record',
        name: 'Order',
        fields: [{ name: 'id', type: 'string', doc: 'Order ID.' }],
      }),
    },
  ],
}
