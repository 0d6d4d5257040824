"""YAML from files a user (or anyone) wrote, parsed once and refused quickly when hostile.

`load_text(yaml, text)` composes the text into ruamel.yaml's node graph (one scan and parse),
checks the graph, then constructs the data from that same graph, so nothing is parsed twice.
The graph is composed by ruamel's C parser (libyaml, the `ruamel.yaml[libyaml]` extra) when it is
installed, about seven times faster than its pure-Python one (issue 15 point 1); the data is then
built by `yaml`'s own constructor, so round-trip data keeps its line and column of every key.
The checks, all on the node graph before anything is built from it:

- a **recursive alias** (`a: &a [*a]`: an alias inside the node it names) is refused: the data
  would contain itself;
- an **alias bomb** (anchors of anchors, "billion laughs") is refused when the aliases would
  add more than `MAX_ALIAS_NODES` nodes to what the file itself holds; the expanded size is
  counted once per node (memoised), so the check costs one pass over the file's own nodes;
- an **integer of more than 4,300 digits** (Python's `sys.get_int_max_str_digits()`, the limit
  since 3.11 on converting text to int) is refused where it stands instead of failing inside
  the constructor;
- **duplicate keys** in a mapping are reported (every one, not only the first), and the data is
  still built so that other problems of the file are reported too.

Files are also bounded in size before they are read (`check_size`): the limits below are
documented in README.md ("Preflight and limits"). Used by `project.yaml` (spec and content YAML) and
`plan.planfile` (plan files). Pure: no I/O except `check_size`'s `stat`.
"""

from __future__ import annotations

import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning

try:  # ruamel.yaml[libyaml]: the C reader, scanner, parser and composer
    from ruamel.yaml.cyaml import CParser
except ImportError:  # pragma: no cover - pure Python then (e.g. PyPy)
    CParser = None
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

#: Largest spec file (`reconciler.yaml`, `schemas/**/*.yaml`), in bytes (1 MiB).
MAX_SPEC_BYTES = 1 << 20
#: Largest content source file (JSON/YAML manifests, markdown, CSV), in bytes (8 MiB).
MAX_CONTENT_BYTES = 8 << 20
#: Largest plan file, in bytes (64 MiB).
MAX_PLAN_BYTES = 64 << 20
#: Most nodes that aliases may add to a file beyond the nodes written in it.
MAX_ALIAS_NODES = 100_000
_INT_TAG = "tag:yaml.org,2002:int"
_ANCHOR = re.compile(r"&[^\s,\[\]{}]+")


@dataclass(frozen=True)
class Issue:
    """One problem in a YAML text: 1-based `line` and `col`, and what to do about it."""

    line: int
    col: int
    message: str


@dataclass(frozen=True)
class Parsed:
    """`data` built from the text (None when `fatal`), and every issue found."""

    data: Any
    issues: tuple[Issue, ...] = ()
    fatal: bool = False


def check_size(path: Path, limit: int, what: str) -> Issue | None:
    """An issue when the file at `path` is larger than `limit` bytes; OSError propagates."""
    size = path.stat().st_size
    if size <= limit:
        return None
    return Issue(1, 1, f"the {what} is {size:,} bytes; the reconciler reads {what}s of at most "
                       f"{limit:,} bytes (README.md, \"Preflight and limits\"): split it or make "
                       "it smaller")


#: What to do about broken YAML, after the parser's words (a file written by hand).
SYNTAX_HINT = ": fix the YAML syntax there"


def not_utf8(exc: UnicodeDecodeError) -> Issue:
    """Where a file's bytes stop being UTF-8: the line and column (in bytes) of the first byte
    that is not, with what to do."""
    data = bytes(exc.object)
    line = data.count(b"\n", 0, exc.start) + 1
    col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return Issue(line, col, f"not UTF-8 text: {exc.reason} (byte 0x{data[exc.start]:02x}): save "
                            "the file as UTF-8")


def load_text(yaml: YAML, text: str) -> Parsed:
    """Parse `text` with `yaml` (any ruamel type) once; see the module docstring.

    Broken YAML is a fatal issue at the parser's mark. Never raises for any text. When the C
    parser finds the text broken, the pure-Python parser reads it again for its message, which
    names what it found (`found character '\\t'`, `undefined alias 'x'`) where libyaml's does not:
    only broken files are parsed twice.
    """
    loader = _c_loader(yaml, text)
    if loader is not None:
        parsed = _load(yaml, text, loader)
        if not parsed.fatal or not parsed.issues or not parsed.issues[0].message.startswith(
                "invalid YAML"):
            return parsed
    return _load(yaml, text, None)


def _load(yaml: YAML, text: str, loader: tuple[Any, Any] | None) -> Parsed:
    parser = None
    try:
        constructor, parser = loader or yaml.get_constructor_parser(text)
        with warnings.catch_warnings():  # an anchor defined again is valid YAML (an alias
            # names the latest one): not ruamel's warning on the user's screen
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            node = constructor.composer.get_single_node()
        if node is None:
            return Parsed(None)
        issues, fatal = inspect(node, text)
        if fatal:
            return Parsed(None, tuple(issues), True)
        return Parsed(constructor.construct_document(node), tuple(issues))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        return Parsed(None, (Issue(line, col, f"invalid YAML: {what}{SYNTAX_HINT}"),), True)
    except RecursionError:
        return Parsed(None, (Issue(1, 1, "invalid YAML: nested too deeply"),), True)
    except Exception as exc:  # noqa: BLE001 - ruamel raises a few unmarked errors (bad tokens)
        return Parsed(None, (Issue(1, 1, f"invalid YAML: {exc}"),), True)
    finally:
        if parser is not None:
            parser.dispose()
        for part in ("reader", "scanner"):  # as YAML.load does, so `yaml` can be used again
            reset = getattr(getattr(yaml, f"_{part}", None), f"reset_{part}", None)
            if reset is not None:
                reset()


_C_LOADERS: dict[tuple[type, type], type] = {}
_YAML_VERSION = (1, 2)


def _c_loader(yaml: YAML, text: str) -> tuple[Any, Any] | None:
    """`(constructor, parser)` for `text`: the C parser (composing the nodes) joined to `yaml`'s
    constructor and resolver classes, configured as `yaml` is; None without the C parser."""
    if CParser is None or yaml.Constructor is None:
        return None
    kinds = (yaml.Constructor, yaml.Resolver)
    if kinds not in _C_LOADERS:

        class Loader(CParser, *kinds):  # type: ignore[misc, valid-type]
            def __init__(self, stream: str, owner: YAML):
                CParser.__init__(self, stream)
                self._parser = self._composer = self
                self.comment_handling = owner.comment_handling
                kinds[0].__init__(self, loader=self)
                self.allow_duplicate_keys = owner.allow_duplicate_keys
                kinds[1].__init__(self, version=owner.version, loadumper=self)
                self._version = getattr(self, "_loader_version", None) or _YAML_VERSION

            @property
            def processing_version(self) -> Any:
                """What ruamel's resolver finds for a C-parsed document (the version asked
                for, else 1.2), without its two caught AttributeErrors per scalar."""
                return self._version

        _C_LOADERS[kinds] = Loader
    loader = _C_LOADERS[kinds](text, yaml)
    return loader, loader


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _at(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def inspect(root: Node, text: str = "") -> tuple[list[Issue], bool]:
    """`(issues, fatal)` of a node graph composed from `text`: recursion, alias expansion, huge
    integers (fatal) and duplicate keys (not fatal). One iterative pass; each node is visited
    once."""
    sizes: dict[int, int] = {}  # id(node) -> nodes in its expansion
    shared: dict[int, Node] = {}  # nodes reached more than once (through aliases)
    issues: list[Issue] = []
    on_path = {id(root)}
    stack = [(root, iter(_children(root)))]
    issues += _duplicates(root)
    while stack:
        node, rest = stack[-1]
        child = next(rest, None)
        if child is None:
            stack.pop()
            on_path.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in _children(node))
            continue
        if id(child) in on_path:
            return [_recursive(child, text)], True
        if id(child) in sizes:
            shared[id(child)] = child
            continue
        if isinstance(child, ScalarNode):
            problem = _huge_integer(child)
            if problem is not None:
                return [problem], True
            sizes[id(child)] = 1
            continue
        issues += _duplicates(child)
        on_path.add(id(child))
        stack.append((child, iter(_children(child))))
    added = sizes[id(root)] - len(sizes)
    if added > MAX_ALIAS_NODES:
        biggest = max(shared.values(), key=lambda n: sizes[id(n)])
        return [_bomb(biggest, sizes[id(biggest)], added, text)], True
    return sorted(issues, key=lambda i: (i.line, i.col)), False


def _anchor(node: Node, text: str) -> str | None:
    """The anchor of `node` (`&name`): the pure composer keeps it on the node, the C one does
    not, and then it is read from `text` where the node starts."""
    if getattr(node, "anchor", None):
        return f"&{node.anchor}"
    lines = text.splitlines()
    line, col = node.start_mark.line, node.start_mark.column
    found = _ANCHOR.match(lines[line], col) if line < len(lines) else None
    return found.group(0) if found else None


def _recursive(node: Node, text: str) -> Issue:
    name = _anchor(node, text) or "an anchor"
    return Issue(*_at(node), f"recursive alias: {name} is used inside itself, so the data would "
                             "contain itself; YAML files here cannot be recursive: remove the alias")


def _bomb(node: Node, size: int, added: int, text: str) -> Issue:
    name = _anchor(node, text) or "this anchor"
    return Issue(*_at(node), f"aliases expand the file by {added:,} nodes ({name} alone holds "
                             f"{size:,}); at most {MAX_ALIAS_NODES:,} are allowed (an alias bomb?): "
                             "write the data out instead of nesting aliases")


def _huge_integer(node: ScalarNode) -> Issue | None:
    limit = sys.get_int_max_str_digits()
    if not limit or len(node.value) <= limit:  # every scalar is visited: the cheap test first
        return None
    digits = sum(ch.isdigit() for ch in node.value)
    if str(node.tag) != _INT_TAG or digits <= limit:
        return None
    return Issue(*_at(node), f"a number of {digits:,} digits: integers hold at most {limit:,} "
                             "digits; quote it if it is text")


def _duplicates(node: Node) -> list[Issue]:
    """Keys repeated in one mapping (ruamel keeps only one of them); `<<` merges excepted."""
    if not isinstance(node, MappingNode):
        return []
    seen: set[str] = set()
    issues = []
    for key, _ in node.value:
        if isinstance(key, ScalarNode) and key.value != "<<":
            if key.value in seen:
                issues.append(Issue(*_at(key), f"duplicate key {key.value!r}: a mapping may hold "
                                               "each key once; remove or rename one"))
            seen.add(key.value)
    return issues
