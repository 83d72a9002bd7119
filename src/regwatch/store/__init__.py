"""The SQLite store: schema and migrations, diffing, the outbox, and every query the program runs."""
