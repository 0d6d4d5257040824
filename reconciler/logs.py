"""The reconciler's loggers, all under `reconciler` (`logger(name)`).

A library's loggers stay silent unless the application configures logging (Python's logging
HOWTO, "Configuring Logging for a Library"): the `reconciler` logger gets a `NullHandler` here,
once, so its records (notion-client's own `request fail: …` warnings among them: it logs through
`reconciler.notion`) never reach stderr through logging's last-resort handler next to the
reconciler's messages. `--debug` configures logging and shows them. Every module that logs takes
its logger from here, so a command that logs nothing (`--help`) does not import `logging`.
"""

from __future__ import annotations

import logging

logging.getLogger("reconciler").addHandler(logging.NullHandler())


def logger(name: str) -> logging.Logger:
    """`logging.getLogger(name)`; `name` is under `reconciler` (e.g. `reconciler.sql`)."""
    return logging.getLogger(name)
