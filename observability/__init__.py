"""Observability: Prometheus metrics, latency objectives, JSON logs and optional traces."""
