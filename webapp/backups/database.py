"""The database's part of a backup: one consistent copy, made and read back with the database's own tools,
and the rows each table had in that copy.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies the file page by page as one
  snapshot while the site runs; restoring copies it back the same way.
- PostgreSQL: ``pg_dump --format=custom`` (restored with ``pg_restore``), run on a snapshot exported by a
  REPEATABLE READ transaction that also counts the rows, so the counts are those of the dump even while
  farmers upload. The client tools must be at least the server's major version (``pg_dump`` says so).

A copy restores only into the same kind of database, empty (no table). Moving a site from SQLite to
PostgreSQL is another job (``dumpdata``/``loaddata``), not a restore.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

DUMP_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# JSON fields whose keys are media names too (a model version's Keras file is named only there).
FILE_NAME_KEYS = [("classifier.ModelVersion", "file_hashes")]
PG_DUMP_TIMEOUT_SECONDS = 3600


class DatabaseBackupError(RuntimeError):
    pass


def dump_file_name(connection: BaseDatabaseWrapper) -> str:
    try:
        return DUMP_FILES[connection.vendor]
    except KeyError:
        raise DatabaseBackupError(f"backups support SQLite and PostgreSQL, not {connection.vendor}") from None


def dump(connection: BaseDatabaseWrapper, target: Path) -> tuple[dict[str, int], list[str]]:
    """Copy the database to ``target``; the rows per table and the media files its rows name, as copied."""
    if connection.vendor == "sqlite":
        return _dump_sqlite(connection, target)
    if connection.vendor == "postgresql":
        return _dump_postgresql(connection, target)
    raise DatabaseBackupError(f"backups support SQLite and PostgreSQL, not {connection.vendor}")


def restore(connection: BaseDatabaseWrapper, source: Path) -> None:
    """Load the copy ``source`` into the (empty) database."""
    connection.close()  # Django's own session must not see the database change under it
    if connection.vendor == "sqlite":
        target = connection.settings_dict["NAME"]
        with contextlib.closing(sqlite3.connect(source)) as copy, contextlib.closing(sqlite3.connect(target)) as db:
            copy.backup(db)
    elif connection.vendor == "postgresql":
        _pg_tool(
            connection,
            "pg_restore",
            "--exit-on-error",
            "--single-transaction",  # all or nothing
            "--no-owner",  # the roles of the new server may differ: its tables belong to DATABASE_URL's user
            "--no-privileges",
            "--dbname",
            connection.settings_dict["NAME"],
            str(source),
        )
    else:
        raise DatabaseBackupError(f"backups support SQLite and PostgreSQL, not {connection.vendor}")


def is_empty(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor, include_views=True)


def table_counts(connection: BaseDatabaseWrapper) -> dict[str, int]:
    """Rows per table of the database as Django sees it now."""
    with connection.cursor() as cursor:
        return _counts(cursor, connection.introspection.table_names(cursor))


# -- SQLite ----------------------------------------------------------------------------------------


def _dump_sqlite(connection: BaseDatabaseWrapper, target: Path) -> tuple[dict[str, int], list[str]]:
    live = connection.get_new_connection(connection.get_connection_params())
    with contextlib.closing(live), contextlib.closing(sqlite3.connect(target)) as copy:
        live.backup(copy)  # one snapshot: a writer waits for it (the busy timeout), none is lost
    with contextlib.closing(sqlite3.connect(target)) as copy:
        cursor = copy.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
        tables = [name for (name,) in cursor.fetchall()]
        return _counts(cursor, tables), _referenced_files(cursor, tables)


# -- PostgreSQL ------------------------------------------------------------------------------------


def _dump_postgresql(connection: BaseDatabaseWrapper, target: Path) -> tuple[dict[str, int], list[str]]:
    import psycopg

    snapshot_holder = connection.get_new_connection(connection.get_connection_params())
    with contextlib.closing(snapshot_holder):
        snapshot_holder.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        cursor = snapshot_holder.cursor()
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        tables = [name for (name,) in cursor.fetchall()]
        counts, referenced = _counts(cursor, tables), _referenced_files(cursor, tables)
        # The dump reads the same snapshot, which lives while this transaction is open.
        _pg_tool(connection, "pg_dump", "--format=custom", f"--snapshot={snapshot}", "--file", str(target))
        snapshot_holder.rollback()
    return counts, referenced


def _pg_tool(connection: BaseDatabaseWrapper, tool: str, *arguments: str) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise DatabaseBackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    settings = connection.settings_dict
    environment = {**os.environ, "PGDATABASE": settings["NAME"]}
    for variable, value in (
        ("PGHOST", settings.get("HOST")),
        ("PGPORT", settings.get("PORT")),
        ("PGUSER", settings.get("USER")),
        ("PGPASSWORD", settings.get("PASSWORD")),  # in the environment, never on a command line
        ("PGSSLMODE", (settings.get("OPTIONS") or {}).get("sslmode")),
    ):
        if value:
            environment[variable] = str(value)
    finished = subprocess.run(
        [executable, *arguments], env=environment, capture_output=True, text=True, timeout=PG_DUMP_TIMEOUT_SECONDS
    )
    if finished.returncode != 0:
        raise DatabaseBackupError(f"{tool} failed ({finished.returncode}): {finished.stderr.strip()[-2000:]}")


# -- both ------------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _counts(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - a table name the database gave
        counts[table] = cursor.fetchone()[0]
    return counts


def _file_columns() -> Iterator[tuple[str, str]]:
    """(table, column) of every file field of the installed models."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                yield model._meta.db_table, field.column


def _referenced_files(cursor, tables: list[str]) -> list[str]:
    """The media names the copied rows refer to: file fields (photos, model files, data snapshots...) and
    the keys of ``FILE_NAME_KEYS``."""
    names: set[str] = set()
    for table, column in _file_columns():
        if table in tables:
            column_sql = _quote(column)
            cursor.execute(f"SELECT {column_sql} FROM {_quote(table)} WHERE {column_sql} <> ''")  # noqa: S608
            names.update(name for (name,) in cursor.fetchall() if name)
    for label, field_name in FILE_NAME_KEYS:
        model = apps.get_model(label)
        if model._meta.db_table in tables:
            column = _quote(model._meta.get_field(field_name).column)
            cursor.execute(f"SELECT {column} FROM {_quote(model._meta.db_table)}")  # noqa: S608
            for (value,) in cursor.fetchall():
                names.update(json.loads(value) if isinstance(value, str) else (value or {}))
    return sorted(names)
