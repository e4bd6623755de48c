"""Observability: Prometheus metrics, latency objectives, and what they are measured on."""
