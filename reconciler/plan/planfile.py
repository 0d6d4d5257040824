"""The plan file: `Plan` ⇄ a deterministic YAML document.

The only module that knows the layout (Terraform's `planfile`). Same plan → same bytes: keys of
free-form data are sorted, changes keep their (phase, address) order, and only
`header.created_at` (and so `digest`) differs between two plans of the same state. A file with
another `format_version` is refused rather than misread.

Integrity: `digest` is `sha256:` of the rest of the document (`digests.digest`), so a plan
edited after it was written is refused when read (`from_document`); `load_for_apply` also
refuses a plan another reconciler version wrote, whose changes could compile differently.
"""

from __future__ import annotations

import functools
import io
from enum import Enum
from pathlib import Path
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.tag import Tag

from reconciler import __version__
from reconciler.digests import digest
from reconciler.errors import PlanFileError
from reconciler.model.changes import BY_KIND, ChangeBase, Diagnostic, RequestPreview
from reconciler.model.content import RowState
from reconciler.model.notion import Property, SelectOption
from reconciler.model.postgres import Column, Constraint, Table
from reconciler.plan.model import FORMAT_VERSION, Plan
from reconciler.safe_yaml import MAX_PLAN_BYTES, SYNTAX_HINT, check_size, load_text

try:  # ruamel.yaml[libyaml]: the C emitter
    from ruamel.yaml.cyaml import CSafeDumper
except ImportError:  # pragma: no cover - pure Python then
    CSafeDumper = None

_HEADER_COMMENT = (
    "# Reconciler plan. Review it (reconciler show FILE --format markdown), then apply it with:\n"
    "#   reconciler apply FILE\n"
    "# Generated; do not edit: apply refuses a plan whose content no longer matches its digest,\n"
    "# or whose live state changed since it was made.\n"
)


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 4096
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[attr-defined]
    return yaml


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_sorted(v) for v in value]
    return value


#: Fields of a model class that a plan file leaves out: the spec's bookkeeping (how to diff,
#: not what to write) and what only the live reader knows.
_LEFT_OUT: dict[type, frozenset[str]] = {
    Property: frozenset({"renamed_from", "options_mode", "sensitive"}),
    SelectOption: frozenset({"default_color"}),
    Column: frozenset({"renamed_from", "sensitive"}),
    Table: frozenset({"renamed_from", "mirror", "primary_key_name"}),
}
#: Model classes whose unset (None) fields a plan file leaves out (with Notion's small shapes in
#: `model.changes`, as the API's own objects do).
_SPARSE: tuple[type, ...] = (Property, SelectOption, Constraint, RowState, Diagnostic,
                             RequestPreview)
#: The marks of personal data (`plan.seal`): written only when set.
_QUIET: frozenset[str] = frozenset({"sensitive", "sensitive_key", "sensitive_seed", "sealed"})


_SHAPES: dict[type, tuple[tuple[str, ...], bool]] = {}


def _shape(kind: type) -> tuple[tuple[str, ...], bool]:
    """The fields a model class writes (`_LEFT_OUT` dropped) and whether it is sparse, worked
    out once per class (a 100,000-row plan has as many models of a few classes)."""
    if kind not in _SHAPES:
        left_out = next((v for k, v in _LEFT_OUT.items() if issubclass(kind, k)), frozenset())
        _SHAPES[kind] = (tuple(n for n in kind.model_fields if n not in left_out),
                         issubclass(kind, _SPARSE) or kind.__module__ == "reconciler.model.changes")
    return _SHAPES[kind]


def _data(value: Any, sparse: bool = False) -> Any:
    """A model, recursively, as plan data: `_LEFT_OUT` fields dropped, and unset (None) fields
    dropped in `_SPARSE` models and everything inside them; enums as their values."""
    if isinstance(value, BaseModel):
        names, own = _shape(type(value))
        sparse = sparse or own
        out = {}
        for name in names:
            item = getattr(value, name)
            if (item is None and sparse) or (name in _QUIET and not item):
                continue
            out[name] = _data(item, sparse) if isinstance(item, _NESTED) else item
        if isinstance(value, Property) and not out.get("options"):
            out.pop("options", None)
        return out
    if isinstance(value, (list, tuple)):
        return [_data(v, sparse) if isinstance(v, _NESTED) else v for v in value]
    if isinstance(value, dict):
        return {k: _data(v, sparse) if isinstance(v, _NESTED) else v for k, v in value.items()}
    return value.value if isinstance(value, Enum) else value


#: Values `_data` must look into (anything else is written as it is).
_NESTED = (BaseModel, list, tuple, dict, Enum)
_DEFAULTS: dict[type, dict[str, Any]] = {}


def _defaults(kind: type) -> dict[str, Any]:
    """Each field's default, made once per change class (`change_data` leaves defaults out)."""
    if kind not in _DEFAULTS:
        _DEFAULTS[kind] = {name: field.get_default(call_default_factory=True)
                           for name, field in kind.model_fields.items()}
    return _DEFAULTS[kind]


def change_data(change: ChangeBase, ordered: bool = True) -> dict[str, Any]:
    """One change as plan data: its own fields without defaults, `action` added, in the file's
    key order (`ordered`; a digest, whose JSON sorts every key, does without)."""
    data = {"action": change.action.value}
    for name, default in _defaults(type(change)).items():
        item = getattr(change, name)
        if name != "kind" and item == default:
            continue
        data[name] = _data(item)
    if not ordered:
        return data
    for key in ("before", "after"):
        if isinstance(data.get(key), dict):
            data[key] = _sorted(data[key])
    head = [k for k in _CHANGE_ORDER if k in data]
    return {k: data[k] for k in head + [k for k in data if k not in head]}


def to_document(plan: Plan) -> dict[str, Any]:
    """The plan as plain data in file layout: `format_version`, `digest`, `header`, `summary`,
    `content`, `changes`.

    Also what `show --format json` prints, so every view reads the same document.
    """
    body = _body(plan)
    return {"format_version": body["format_version"], "digest": document_digest(body),
            **{k: v for k, v in body.items() if k != "format_version"}}


def _body(plan: Plan, ordered: bool = True) -> dict[str, Any]:
    """The document without its `digest` (`ordered`: keys in file order; see `change_data`)."""
    header = plan.header.model_dump(mode="json", exclude={"format_version"})
    for name in ("fingerprints", "backends", "identities"):
        header[name] = _sorted(header[name])
    changes = [change_data(c, ordered) for c in plan.changes]
    content = {address: _sorted(summary.model_dump(mode="json"))
               for address, summary in sorted(plan.content.items())}
    body = {"format_version": plan.header.format_version, "header": header,
            "summary": plan.summary, "content": content}
    if plan.sync:  # two-way sync (model.sync): per synced table, and the plan's request cost
        body["sync"] = {t: _sorted(s.model_dump(mode="json"))
                        for t, s in sorted(plan.sync.items())}
        body["cost"] = plan.cost.model_dump(mode="json") if plan.cost else None
    body["changes"] = changes
    return body


def content_digest(plan: Plan) -> str:
    """`sha256:` of the plan document without its `digest` and its creation time: equal for the
    same plan of the same state, whenever it was made (the journal's plan identity). Computed
    once, without laying the document out for a file."""
    body = _body(plan, ordered=False)
    body["header"].pop("created_at", None)
    return digest(body)


def document_digest(doc: dict[str, Any]) -> str:
    """`sha256:` of a plan document without its own `digest` (`digests.digest`): what the
    file's `digest` records."""
    return digest({k: v for k, v in doc.items() if k != "digest"})


_CHANGE_ORDER = ("address", "action", "kind", "phase", "destructive", "rows_affected", "manual",
                 "note", "lint", "lagging", "database", "table", "property", "referenced_by",
                 "sync", "before", "after", "sql", "requests")


def dumps(plan: Plan) -> str:
    """The plan file's text: emitted by libyaml when ruamel's C emitter is installed (a
    10,000-row plan in about half the time of ruamel's own emitter, which is used otherwise);
    the same data either way (the digest is of the data)."""
    buf = io.StringIO()
    doc = to_document(plan)
    if CSafeDumper is None:
        _yaml().dump(doc, buf)
    else:
        dumper = _dumper()(buf, default_flow_style=False, allow_unicode=True, width=4096)
        dumper.sort_base_mapping_type_on_output = False  # the document's own key order
        try:
            dumper.open()
            dumper.represent(doc)
            dumper.close()
        finally:
            dumper.dispose()
    return _HEADER_COMMENT + buf.getvalue()


@functools.cache
def _dumper() -> type:
    """`CSafeDumper` giving every node of one tag the same `Tag` object.

    ruamel's representer makes a new `Tag` for every node, and each works out its text again
    character by character (`Tag.uri_decoded_suffix`): half the time of dumping the bundled
    example's 340 KB plan (0.55 s of 1.1 s measured here). The file is the same byte for byte.
    """
    tags: dict[str, Tag] = {}

    def shared(tag: Any) -> Any:
        if not isinstance(tag, str):
            return tag
        found = tags.get(tag)
        if found is None:
            found = tags[tag] = Tag(suffix=tag)
        return found

    class PlanDumper(CSafeDumper):  # type: ignore[misc, valid-type]
        def represent_scalar(self, tag: Any, value: Any, style: Any = None,
                             anchor: Any = None) -> Any:
            return super().represent_scalar(shared(tag), value, style, anchor)

        def represent_sequence(self, tag: Any, sequence: Any, flow_style: Any = None) -> Any:
            return super().represent_sequence(shared(tag), sequence, flow_style)

        def represent_mapping(self, tag: Any, mapping: Any, flow_style: Any = None) -> Any:
            return super().represent_mapping(shared(tag), mapping, flow_style)

    return PlanDumper


def save(plan: Plan, path: Path) -> None:
    """Write the plan to `path` (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(plan), encoding="utf-8")


def from_document(doc: Any, source: str) -> Plan:
    """Rebuild a `Plan` from its document. Raises `PlanFileError` naming `source`."""
    if not isinstance(doc, dict) or "format_version" not in doc:
        raise PlanFileError(f"{source}: not a reconciler plan file (no format_version)")
    version = doc["format_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise PlanFileError(
            f"{source}: plan format_version is {_what(version)} {version!r}; it must be the "
            f"number {FORMAT_VERSION} (was the file edited by hand? make the plan again)")
    if version != FORMAT_VERSION:
        raise PlanFileError(
            f"{source}: plan format_version {doc['format_version']!r} is not supported by this "
            f"reconciler (it reads version {FORMAT_VERSION}); make the plan again with this version")
    header = doc.get("header") or {}
    if not isinstance(header, dict):
        raise PlanFileError(f"{source}: invalid plan file at header: it is {_what(header)}, not "
                            "a mapping (was the file edited by hand? make the plan again)")
    if doc.get("changes") is not None and not isinstance(doc["changes"], list):
        raise PlanFileError(f"{source}: invalid plan file at changes: it is "
                            f"{_what(doc['changes'])}, not a list of changes (was the file edited "
                            "by hand? make the plan again)")
    try:
        changes = [_without_action(c, i, source) for i, c in enumerate(doc.get("changes") or [])] \
            if isinstance(doc.get("changes"), list) else doc.get("changes")
        plan = Plan.model_validate({"header": dict(header, format_version=doc["format_version"]),
                                    "changes": changes,
                                    "content": doc.get("content") or {},
                                    "sync": doc.get("sync") or {}, "cost": doc.get("cost")})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanFileError(f"{source}: invalid plan file at {where}: {_expected(first)} (was "
                            "the file edited by hand? make the plan again)") from None
    check_digest(doc, source)
    return plan


def _what(value: Any) -> str:
    """What a YAML value is, in a plan file's terms: `text`, `a number`, `a list`, …"""
    return {str: "text", int: "a number", float: "a number", bool: "a boolean", list: "a list",
            dict: "a mapping", type(None): "empty"}.get(type(value), type(value).__name__)


#: What a field expects, by pydantic error type, in a plan file's terms.
_EXPECTED = {"tuple_type": "a list", "list_type": "a list", "dict_type": "a mapping",
             "model_type": "a mapping", "model_attributes_type": "a mapping",
             "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number",
             "int_from_float": "a whole number", "bool_type": "true or false",
             "bool_parsing": "true or false", "float_type": "a number",
             "float_parsing": "a number"}


def _expected(error: Mapping[str, Any]) -> str:
    """One pydantic validation error said in a plan file's terms (no pydantic wording)."""
    kind = error.get("type", "")
    if kind == "missing":
        return "this field is missing"
    if kind == "extra_forbidden":
        return "no such field in a plan file"
    if kind in ("literal_error", "enum"):
        return f"expected {error.get('ctx', {}).get('expected', 'another value')}, got " \
               f"{error.get('input')!r}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_what(error.get('input'))}"
    return str(error.get("msg", "not a valid value")).replace("Input should be", "expected")


def check_digest(doc: dict[str, Any], source: str) -> None:
    """Raise `PlanFileError` unless `doc["digest"]` is the digest of the rest of `doc`: a plan
    is applied exactly as reconciler wrote it and a reviewer read it, or not at all."""
    recorded = doc.get("digest")
    if recorded is not None and not (isinstance(recorded, str) and recorded.startswith("sha256:")):
        raise PlanFileError(f"{source}: the plan file's digest is {_what(recorded)} "
                            f"{recorded!r}, not a digest string (sha256:…), so nothing shows it is "
                            "the plan reconciler wrote; make the plan again with `reconciler plan "
                            "--out FILE`")
    if not isinstance(recorded, str):
        raise PlanFileError(f"{source}: the plan file has no digest, so nothing shows it is the "
                            "plan reconciler wrote; make the plan again with `reconciler plan "
                            "--out FILE`")
    if recorded != document_digest(doc):
        raise PlanFileError(
            f"{source}: the plan file was edited after reconciler wrote it (its content no longer "
            f"matches its digest {recorded[:19]}…). A plan is not edited by hand: change the spec "
            "and make the plan again with `reconciler plan --out FILE`")


def _a(word: str) -> str:
    """`word` with its indefinite article: `an update`, `a create`."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _without_action(change: Any, index: int, source: str) -> Any:
    """A change's data without `action`, which follows from its `kind`; an unknown kind, or an
    `action` its kind does not imply, is refused (the file was edited by hand)."""
    if not isinstance(change, dict):
        return change
    kind = change.get("kind")
    cls = BY_KIND.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise PlanFileError(f"{source}: invalid plan file at changes.{index}.kind: unknown "
                            f"change kind {change.get('kind')!r}")
    if "action" in change and change["action"] != cls.action.value:
        raise PlanFileError(f"{source}: invalid plan file at changes.{index}.action: "
                            f"{_a(change['kind'])} change is {_a(cls.action.value)}, not "
                            f"{change['action']!r}")
    return {k: v for k, v in change.items() if k != "action"}


def load_for_apply(path: Path) -> Plan:
    """`load`, also refusing a plan written by another reconciler version (its changes may
    compile to other requests or SQL). Raises `PlanFileError`."""
    plan = load(path)
    if plan.header.tool_version != __version__:
        raise PlanFileError(
            f"{path}: the plan was made by reconciler {plan.header.tool_version} and this is "
            f"reconciler {__version__}; apply it with the version that made it, or make the plan "
            "again with this one")
    return plan


def load(path: Path) -> Plan:
    """Read a plan file. Raises `PlanFileError` for a missing, malformed, oversized
    (`safe_yaml.MAX_PLAN_BYTES`) or foreign file, and for YAML aliases that recurse or expand
    beyond `safe_yaml.MAX_ALIAS_NODES` (plan files never hold aliases of their own)."""
    try:
        too_big = check_size(path, MAX_PLAN_BYTES, "plan file")
        text = path.read_text(encoding="utf-8") if too_big is None else ""
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot read the plan file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PlanFileError(f"{path}: not a reconciler plan file (not UTF-8 text)") from None
    if too_big is not None:
        raise PlanFileError(f"{path}: {too_big.message}")
    parsed = load_text(_yaml(), text)
    if parsed.fatal:
        issue = parsed.issues[0]
        raise PlanFileError(f"{path}:{issue.line}:{issue.col}: not a valid plan file "
                            f"({issue.message.removesuffix(SYNTAX_HINT)}); make the plan again")
    return from_document(parsed.data, str(path))
