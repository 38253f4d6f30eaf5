// DATA002 fixed: the classification routes restricted data to the secure cluster.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.cards.v1', classification='restricted'),
    sk.topic('pricing.wellness.v1', classification='restricted') + { cluster: 'secure' },
  ],
}
