{
  schemas: [
    {
      subject: 'pricing.orders.v1-value',
      file: 'schemas/orders.avsc',
    },
  ],
}
