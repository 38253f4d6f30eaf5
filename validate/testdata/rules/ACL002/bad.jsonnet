// ACL002: an unknown role.
{
  acls: [
    { principal: 'User:pricing-svc', role: 'writer', topics: ['pricing.existing.v1'] },
  ],
}
