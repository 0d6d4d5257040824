"""`reconciler --debug`: DEBUG logging for the `reconciler` loggers, one line per HTTP request
(`reconciler.http`: method, path, status, duration) and per SQL statement (`reconciler.sql`:
the statement text and duration; bound values are never logged), on stderr.

The lines come from where the libraries let us listen, never from patched library classes: the
Notion client's httpx event hooks (`backends.notion.client.log_http`) and the cursor class of
each Postgres connection (`backends.postgres.connect.LoggingCursor`). Both cost one
`isEnabledFor` check per request or statement while debug logging is off.

Secrets never reach a log line by construction (no headers, no bodies, no connection strings
are logged); `SecretFilter` masks them anyway as a safety net: `Bearer …`, Notion tokens
(`secret_…`, `ntn_…`) and connection-string passwords. Sensitive values (personal data,
`model.sensitive`) are not logged either: request bodies and bound SQL values never are, and the
filter masks every sensitive value the process has met in whatever a log line says
(`reconciler.redact`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator

LOGGER = "reconciler"
_SECRETS = (
    (re.compile(r"(Bearer\s+)[^\s'\",;]+", re.IGNORECASE), r"\1***"),
    (re.compile(r"\b(secret_|ntn_)[A-Za-z0-9_\-]+"), r"\1***"),
    (re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@"), r"\1***@"),
    (re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&;]+)", re.IGNORECASE), r"\1***"),
)


def mask_secrets(text: str) -> str:
    """`text` with tokens and connection-string passwords replaced by `***`, and the sensitive
    values the process has met by `(sensitive)` (`reconciler.redact`)."""
    from reconciler.redact import redact

    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return redact(text)


class SecretFilter(logging.Filter):
    """Rewrites each record's message with `mask_secrets` (and drops its args and traceback
    text, which were formatted into the masked message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw template
            message = str(record.msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        record.msg, record.args = mask_secrets(message), ()
        return True


_FILTER = SecretFilter()


def protect_loggers() -> None:
    """Put `SecretFilter` on every `reconciler` logger (filters on a logger apply to records
    created there, whichever handler, pytest's included, receives them). Idempotent."""
    names = {n for n in logging.Logger.manager.loggerDict
             if n == LOGGER or n.startswith(LOGGER + ".")}
    for name in sorted(names | {LOGGER, f"{LOGGER}.http", f"{LOGGER}.sql", f"{LOGGER}.notion",
                                f"{LOGGER}.local", f"{LOGGER}.local.notion"}):
        logging.getLogger(name).addFilter(_FILTER)


@contextlib.contextmanager
def debug_logging(stream=None) -> Iterator[logging.Handler]:
    """DEBUG logging for the `reconciler` loggers to `stream` (stderr) while the block runs,
    every record masked by `SecretFilter`."""
    protect_loggers()
    root = logging.getLogger(LOGGER)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_FILTER)
    previous = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
