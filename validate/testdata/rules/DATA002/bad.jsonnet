// DATA002: restricted data pinned to the standard cluster, and a cluster the team does not have.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.cards.v1', classification='restricted') + { cluster: 'standard' },
    sk.topic('pricing.wellness.v1', classification='restricted') + { cluster: 'vault-room' },
  ],
}
