"""Storage: the Store protocol and its SQL implementation for SQLite and PostgreSQL."""
