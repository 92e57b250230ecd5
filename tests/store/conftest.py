from tests.store.backends import database_url, db, empty_database, sqlite_db

__all__ = ["database_url", "db", "empty_database", "sqlite_db"]
