"""Document data → YAML text, with ruamel.yaml (round-trip mode, keys in the order given).

Written the way the bundled examples are: a `yaml-language-server` comment pointing at the JSON
Schema, block mappings for the file's sections, and one line per property, option or small
mapping (`Name: {type: title}`, `- {name: Done, color: green}`). The same data always gives the
same text.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

#: A mapping or list with at most this many scalar items is written on one line.
FLOW_ITEMS = 6
#: A line longer than this is written in block style instead.
FLOW_WIDTH = 100


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _flow_safe(value: Any) -> bool:
    """A scalar written inside `{…}` / `[…]` without surprises: ruamel.yaml does not always
    quote what flow context makes special (a text starting with `: ` came back broken), so
    texts holding flow indicators, `: `, ` #`, a leading indicator, or edge spaces are written
    in block style instead, where its quoting is sound."""
    if not isinstance(value, str):
        return True
    return not (value != value.strip() or any(c in value for c in ",[]{}\n\t") or ": " in value
                or " #" in value or value.endswith(":") or value[:1] in _INDICATORS)


_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def _short(value: Any) -> bool:
    """A flat mapping or list of scalars short enough for one line."""
    items = list(value.values()) if isinstance(value, Mapping) else list(value)
    if len(items) > FLOW_ITEMS or not all(_scalar(v) and _flow_safe(v) for v in items):
        return False
    if isinstance(value, Mapping) and not all(_flow_safe(str(k)) for k in value):
        return False
    text = sum(len(str(k)) + len(str(v)) + 4 for k, v in (value.items() if isinstance(value, Mapping)
                                                            else enumerate(items)))
    return text <= FLOW_WIDTH and not any(isinstance(v, str) and "\n" in v for v in items)


def _node(value: Any, depth: int) -> Any:
    """Plain data → ruamel nodes; flat short mappings and lists below the top level are flow."""
    if isinstance(value, Mapping):
        node = CommentedMap((str(k), _node(v, depth + 1)) for k, v in value.items())
        if depth >= 2 and _short(value):
            node.fa.set_flow_style()
        return node
    if isinstance(value, (list, tuple)):
        node = CommentedSeq(_node(v, depth + 1) for v in value)
        if depth >= 1 and all(_scalar(v) for v in value) and _short(value):
            node.fa.set_flow_style()
        return node
    return value


def dump(data: Mapping[str, Any], *, schema: str | None = None, header: str = "") -> str:
    """`data` as YAML text. `schema`: the JSON Schema path for editors (first-line comment);
    `header`: comment lines (without `#`) written after it."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    buf = io.StringIO()
    yaml.dump(_node(data, 0), buf)
    lines = [f"# yaml-language-server: $schema={schema}"] if schema else []
    lines += [f"# {line}".rstrip() for line in header.splitlines()]
    return "".join(line + "\n" for line in lines) + buf.getvalue()
