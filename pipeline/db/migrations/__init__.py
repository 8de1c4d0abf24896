"""Alembic migrations for the claim store (``pipeline.db.migrate`` runs them)."""
