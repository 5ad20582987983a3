"""Chapter 06b: messaging and workflows: delivery guarantees, logs and consumer groups, outbox, sagas, event sourcing, discovery and tracing."""
