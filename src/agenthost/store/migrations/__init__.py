"""Alembic migrations, applied with ``agenthost db upgrade``."""
