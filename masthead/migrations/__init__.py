"""Alembic migrations; the same files serve SQLite and PostgreSQL."""
