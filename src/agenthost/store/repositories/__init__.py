"""Queries on the tables. Functions take the caller's transaction and never commit."""
