"""Backups of the site (database and media) and their restore: ``services`` (what the commands call),
``database`` (the database's own copy) and ``media`` (the storage's files)."""
