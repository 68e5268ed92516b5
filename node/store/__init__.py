"""The node's storage: the one owner of its SQLite database, its migrations, its files, its failures."""
