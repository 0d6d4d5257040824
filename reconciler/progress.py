"""Progress events: what a long read is doing, for whoever listens.

An event is a log record on the `reconciler.progress` logger at INFO whose `counts` attribute
says what was done since the last event (`{"data sources": 1}`, `{"rows": 100}`). The CLI shows
them on stderr when it is a terminal (`cli.progress`); with no listener at INFO nothing is
formatted and one `isEnabledFor` check is spent. Retries are logged by the Notion transport on
`reconciler.notion.retry` (`backends.notion.resilience`).

Imports nothing of the rest of the reconciler, so every layer may report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from reconciler.logs import logger

LOGGER = logger("reconciler.progress")


def report(message: str, *args: object, counts: Mapping[str, int] | None = None) -> None:
    """One progress event: `message % args` says what is being done now; `counts` (things
    done: `{"rows": 100}`) are added up by the listener."""
    if LOGGER.isEnabledFor(logging.INFO):
        LOGGER.info(message, *args, extra={"counts": dict(counts or {})})
