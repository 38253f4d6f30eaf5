local p = import 'pricing.libsonnet';

{
  schemas: [
    { subject: p.name('prices.v1-value'), file: 'price.avsc' },
  ],
}
