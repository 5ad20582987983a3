"""Chapter 05: partitioning and load: hashing, rebalancing, routing, hot keys, balancers and caches."""
