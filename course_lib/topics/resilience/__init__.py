"""Chapter 06a: failure detection, timeouts, retries, overload, circuit breakers and bulkheads."""
