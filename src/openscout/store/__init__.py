"""Storage: the protocols the service knows (base.py) and their SQL implementation for SQLite
and PostgreSQL (engine.py, and one module per aggregate and per database beside it)."""
