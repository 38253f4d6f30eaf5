// DATA001 fixed: each topic says how sensitive its data is.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.prices.v1', classification='internal'),
    sk.topic('pricing.cards.v1', classification='restricted'),
  ],
}
