"""Personal data in plans: keyed digests instead of values, names instead of keys. Pure.

A property, a column or a whole content set may be `sensitive` (e-mail, phone and people
properties are by default; `model.property_types.SENSITIVE_TYPES`). Plan files are committed and
posted in pull requests, so the plan builder *seals* every value of such a field (`plan.seal`):
the file holds `hmac-sha256:<hex>`, HMAC-SHA256 of the value under the project's digest key
(`reconciler.digest_key`: kept outside the repository), which shows reviewers whether a value
changed without showing it, and cannot be reversed by digesting guesses without the key. Apply
reads each value again from its source and refuses the plan when the digest differs.

A row whose key is personal data (contacts keyed by e-mail) is named in addresses by a digest
of its key, `page["sensitive:3f9a1c2b7d4e5f60"]`, so addresses, the ledger and the journal never
spell it either.

Every digest covers where the value is (the change's address and the field), so two rows holding
the same e-mail get different digests: a plan does not even tell that they are equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.digests import KEYED_PREFIX, keyed_digest
from reconciler.model.content import plain_data

#: What every view shows instead of a sensitive value.
SHOWN = "(sensitive)"
#: How a row whose key is sensitive is named in addresses: this prefix and 16 hex digits.
NAME_PREFIX = "sensitive:"
#: Hex digits of a row name (64 bits: distinct for any number of rows a content set holds).
NAME_DIGITS = 16


class Sealer:
    """Keyed digests under one project's digest key.

    `key` is the key itself or a function returning it, called the first time a digest is
    needed (`reconciler.digest_key.load_digest_key` reads or creates it); `remember(value)` is
    told every value digested, so error messages and logs can mask it (`reconciler.redact`).
    Raises whatever the key function raises (a `ConfigError` when there is no key in CI).
    """

    def __init__(self, key: bytes | Callable[[], bytes],
                 remember: Callable[[Any], None] = lambda value: None):
        self._key = key
        self._remember = remember

    @property
    def key(self) -> bytes:
        """The digest key (read or made on first use)."""
        if callable(self._key):
            self._key = self._key()
        return self._key

    @property
    def key_id(self) -> str:
        """`hmac-sha256:<16 hex>`: which key this is, safe to print and to save in a plan (a
        digest of a fixed text, which tells nothing about the key)."""
        return keyed_digest(self.key, ["reconciler digest key"])[:len(KEYED_PREFIX) + 16]

    def value(self, address: str, field: str, value: Any) -> str:
        """The digest of `value` of `field` in the change at `address`."""
        self._remember(value)
        return keyed_digest(self.key, ["value", address, field, plain_data(value)])

    def key_digest(self, address: str, key: Any) -> str:
        """The digest of a row's sensitive key, in the change at `address`."""
        self._remember(key)
        return keyed_digest(self.key, ["key", address, plain_data(key)])

    def hash_digest(self, address: str, content_hash: str) -> str:
        """The digest of a content hash computed over sensitive values."""
        return keyed_digest(self.key, ["hash", address, content_hash])

    def name(self, scope: str, key: Any) -> str:
        """`sensitive:<16 hex>`: the name in addresses of the row of the content set or database
        at `scope` (`notion.contacts`) whose sensitive key is `key`. Stable for one digest key."""
        self._remember(key)
        text = keyed_digest(self.key, ["name", scope, plain_data(key)])
        return NAME_PREFIX + text[len(KEYED_PREFIX):][:NAME_DIGITS]

    def namer(self, scope: str, sensitive_key: bool) -> Callable[[str], str]:
        """How rows of `scope` are named in addresses: by their key, or when the key is
        sensitive by `name(scope, key)`."""
        return (lambda key: self.name(scope, key)) if sensitive_key else (lambda key: key)


def masked(message: str, value: Any) -> str:
    """`message` with the text in `value` (a string, or those inside lists and mappings), and
    its `repr`, replaced by `(sensitive)`: for messages that quote a value they refuse."""
    texts = [value] if isinstance(value, str) else \
        [v for v in (value.values() if isinstance(value, dict) else value or ())
         if isinstance(v, str)] if isinstance(value, (dict, list, tuple)) else []
    for text in sorted((t for t in texts if t), key=len, reverse=True):
        message = message.replace(repr(text), SHOWN).replace(text, SHOWN)
    return message


def row_namer(sealer: Sealer | None, scope: str, sensitive_key: bool) -> Callable[[str], str]:
    """`Sealer.namer`, and the key itself when nothing is sensitive (no sealer needed)."""
    if not sensitive_key:
        return lambda key: key
    if sealer is None:
        raise ValueError(f"{scope}: rows keyed by a sensitive field need the project's digest "
                         "key (no Sealer given)")
    return sealer.namer(scope, True)
