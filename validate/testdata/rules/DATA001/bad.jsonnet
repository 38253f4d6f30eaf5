// DATA001: one topic without a classification, one with a level the policy does not know.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.prices.v1'),
    sk.topic('pricing.cards.v1', classification='secret'),
  ],
}
