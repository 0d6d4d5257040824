"""Connections: `DATABASE_URL` (a Supabase connection string works as is) or an embedded server.

With no URL, an embedded PostgreSQL (the `pgserver` package, which bundles the server binaries)
runs with its data directory under `<root>/.reconciler/postgres`, so a fresh clone needs no
account. Passwords never appear in messages: `describe_target` and every error mask them.

Supabase note: apply holds a transaction-level advisory lock, which needs a real session. Use the
direct connection (`db.<ref>.supabase.co:5432`) or the session pooler (port 5432); the
transaction pooler (port 6543) hands each transaction to a different backend and is refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from reconciler.errors import ConfigError, ReadError

EMBEDDED_DIR = Path(".reconciler") / "postgres"
#: Supavisor's transaction mode port (Supabase docs, "Connecting to your database").
TRANSACTION_POOLER_PORT = 6543
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def mask(text: str, database_url: str | None = None) -> str:
    """`text` with the password of `database_url` (and any `password=…` / `user:pass@`) masked."""
    if database_url:
        password = _password(database_url)
        if password:
            text = text.replace(password, "***")
    text = _KEYWORD_PASSWORD.sub(r"\1***", text)
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def _password(url: str) -> str | None:
    if "://" in url:
        return urlsplit(url).password
    m = _KEYWORD_PASSWORD.search(url)
    return m.group(2).strip("'") if m else None


def describe_target(database_url: str | None) -> str:
    """`postgresql://postgres:***@host:5432/db`, or `embedded (.reconciler/postgres)`."""
    if not database_url:
        return f"embedded ({EMBEDDED_DIR.as_posix()})"
    if "://" not in database_url:
        return mask(database_url)
    parts = urlsplit(database_url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc, query="", fragment=""))


def connect(root: Path, database_url: str | None) -> psycopg.Connection:
    """An open connection (autocommit off) to `database_url`, or to the embedded server under
    `<root>/.reconciler/postgres` (started on first use) when it is None or empty.

    Raises ConfigError for Supabase's transaction pooler (port 6543), ReadError when the server
    cannot be reached (password masked)."""
    if not database_url:
        return _connect(embedded_url(Path(root)), None)
    if _port(database_url) == TRANSACTION_POOLER_PORT:
        raise ConfigError(
            f"{describe_target(database_url)} is Supabase's transaction pooler (port 6543), "
            "which cannot hold apply's advisory lock: use the direct connection or the session "
            "pooler (port 5432).")
    return _connect(database_url, database_url)


def _port(url: str) -> int | None:
    try:
        return urlsplit(url).port if "://" in url else None
    except ValueError:
        return None


def _connect(url: str, secret: str | None) -> psycopg.Connection:
    try:
        return psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as exc:
        where = describe_target(secret) if secret else describe_target(None)
        raise ReadError(f"cannot connect to Postgres at {where}: "
                        f"{mask(str(exc), secret)}") from None


def embedded_url(root: Path) -> str:
    """Start (or reuse) the embedded server for `root` and return its connection URI.
    Raises ReadError when pgserver cannot start it."""
    try:
        import pgserver
        data = root / EMBEDDED_DIR
        data.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(data, cleanup_mode=None)
        return server.get_uri()
    except Exception as exc:  # pgserver raises plain exceptions from its subprocesses
        raise ReadError(f"cannot start the embedded PostgreSQL under {EMBEDDED_DIR}: "
                        f"{mask(str(exc))}") from None
