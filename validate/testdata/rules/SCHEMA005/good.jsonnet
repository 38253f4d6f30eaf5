// SCHEMA005 fixed: the subject is its topic's, inside the namespace.
local order = std.manifestJsonMinified({
  type: 'record',
  name: 'Order',
  fields: [{ name: 'id', type: 'string', doc: 'Order ID.' }],
});

{
  schemas: [{ subject: 'pricing.orders.v1-value', schema: order }],
}
