from tests.store.backends import database_url, db, sqlite_db

__all__ = ["database_url", "db", "sqlite_db"]
