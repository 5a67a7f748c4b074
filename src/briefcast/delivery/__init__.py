"""Delivery engine: outbox rows claimed by workers, rate limits, retries, transports."""
