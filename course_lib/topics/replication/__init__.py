"""Chapter 04: replication: leaders and followers, leaderless quorums, conflicts, CRDTs and gossip."""
