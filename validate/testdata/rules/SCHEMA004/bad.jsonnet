// SCHEMA004 (info): one subject declared twice.
local order = std.manifestJsonMinified({
  type: 'record',
  name: 'Order',
  fields: [{ name: 'id', type: 'string', doc: 'Order ID.' }],
});
local key = std.manifestJsonMinified({
  type: 'record',
  name: 'OrderKey',
  fields: [{ name: 'id', type: 'string', doc: 'Order ID.' }],
});

{
  schemas: [
    { subject: 'pricing.orders.v1-value', schema: key },
    { subject: 'pricing.orders.v1-value', schema: order },
  ],
}
