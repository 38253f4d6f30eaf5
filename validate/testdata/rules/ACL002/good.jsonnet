// ACL002 fixed: producer, consumer or admin.
{
  acls: [
    { principal: 'User:pricing-svc', role: 'producer', topics: ['pricing.existing.v1'] },
  ],
}
