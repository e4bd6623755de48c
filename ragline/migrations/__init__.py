"""Alembic migrations of the relational schema (registry, buckets, refresh runs, answers).

A package so that setuptools ships ``env.py`` and ``versions/`` with ragline;
``ragline.schema`` runs them, and ``ragline db upgrade`` is how operators do.
"""
