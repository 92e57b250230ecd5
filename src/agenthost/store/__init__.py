"""The database: SQLAlchemy models, repositories and Alembic migrations."""
