"""Delivery: the engine sending what store.outbox queued; rate limits, retries, transports."""
