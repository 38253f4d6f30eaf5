// SCHEMA005: a subject outside the namespace "pricing".
local order = std.manifestJsonMinified({
  type: 'record',
  name: 'Order',
  fields: [{ name: 'id', type: 'string', doc: 'Order ID.' }],
});

{
  schemas: [{ subject: 'orders.v1-value', schema: order }],
}
