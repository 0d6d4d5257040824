"""One way to digest data: `sha256:<hex>` of its canonical JSON.

Content hashes written into Notion pages and Postgres rows, live fingerprints in plan headers,
plan digests in the journal: all are this digest, so equal data always gives the same text.
Canonical JSON: keys sorted, no spaces, non-ASCII kept as is (UTF-8), values JSON cannot hold
turned into their `str()`. Personal data in plans is the exception: it is digested with a secret
key (`keyed_digest`, HMAC-SHA256), so a value cannot be guessed by digesting candidates. Pure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

PREFIX = "sha256:"
KEYED_PREFIX = "hmac-sha256:"


def canonical_json(data: Any) -> str:
    """`data` as canonical JSON text (sorted keys, `,`/`:` separators, UTF-8, `default=str`)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def digest(data: Any) -> str:
    """`sha256:<64 hex>` of the canonical JSON of `data` (see `canonical_json`)."""
    return digest_text(canonical_json(data))


def digest_text(text: str) -> str:
    """`sha256:<64 hex>` of `text` encoded as UTF-8."""
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()


def short_digest(text: str, length: int = 8) -> str:
    """The first `length` hex digits of sha256 of `text`: a stable tag for generated names."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def keyed_digest(key: bytes, data: Any) -> str:
    """`hmac-sha256:<64 hex>`: HMAC-SHA256 (RFC 2104, Python's `hmac`) under `key` of the
    canonical JSON of `data`. Without the key, nobody can tell which value it digests."""
    return KEYED_PREFIX + hmac.new(key, canonical_json(data).encode(), hashlib.sha256).hexdigest()
