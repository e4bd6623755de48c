"""Governance: PII redaction, the audit log and its retention, managed keys and tokens, review."""
