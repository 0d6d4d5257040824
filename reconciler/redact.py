"""Masking sensitive values in text the reconciler prints or logs: a safety net.

Plans, views and the ledger never receive a sensitive value (they get keyed digests,
`model.sensitive`); what remains is text made from live systems' answers: a Notion or Postgres
error that quotes a value it refused, a message built from a row. Every sensitive value the
process handles is remembered here (`remember`: by the project loader for the values of content
sources, by the `Sealer` for every value it digests), and `redact(text)` replaces each one in
`text` with `(sensitive)`: error messages (`cli.user_errors`), `--debug` log lines
(`cli.debug.SecretFilter`), the ledger's and `sync_activity`'s reasons.

Text values of `MIN_CHARS` or more characters are remembered (shorter ones would mask ordinary
words); numbers and booleans are not. Rich text (`model.rich_text` runs) is remembered as its
whole text, and each run of `MIN_RUN_CHARS` or more: a run is often just a bold label.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from reconciler.model.sensitive import SHOWN

#: Shortest text remembered, in characters.
MIN_CHARS = 3
#: Shortest run of rich text remembered on its own, in characters.
MIN_RUN_CHARS = 12

_known: set[str] = set()
_lock = threading.Lock()
_pattern: re.Pattern[str] | None = None


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        text = value.strip()
        if len(text) >= MIN_CHARS:
            yield text
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, (list, tuple)) and value and \
            all(isinstance(v, dict) and isinstance(v.get("text"), str) for v in value):
        yield from _texts("".join(v["text"] for v in value))
        yield from (v["text"].strip() for v in value if len(v["text"].strip()) >= MIN_RUN_CHARS)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _texts(item)


def remember(value: Any) -> None:
    """Remember the text in `value` (a string, or the strings inside lists and mappings)."""
    global _pattern
    new = set(_texts(value)) - _known
    if new:
        with _lock:
            _known.update(new)
            _pattern = None


def redact(text: str) -> str:
    """`text` with every remembered value replaced by `(sensitive)` (longest first)."""
    global _pattern
    if not _known or not text:
        return text
    pattern = _pattern
    if pattern is None:
        with _lock:
            ordered = sorted(_known, key=len, reverse=True)
            pattern = _pattern = re.compile("|".join(re.escape(t) for t in ordered))
    return pattern.sub(SHOWN, text)


def forget_all() -> None:
    """Forget every remembered value (tests)."""
    global _pattern
    with _lock:
        _known.clear()
        _pattern = None
