"""The plan file: `Plan` ⇄ a deterministic YAML document.

The only module that knows the layout (Terraform's `planfile`). Same plan → same bytes: keys of
free-form data are sorted, changes keep their (phase, address) order, and only
`header.created_at` differs between two plans of the same state. A file with another
`format_version` is refused rather than misread.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML

from reconciler.errors import PlanFileError
from reconciler.plan.model import FORMAT_VERSION, Plan
from reconciler.safe_yaml import MAX_PLAN_BYTES, check_size, load_text

_HEADER_COMMENT = (
    "# Reconciler plan. Review it (reconciler show FILE --format markdown), then apply it with:\n"
    "#   reconciler apply FILE\n"
    "# Generated; do not edit (apply refuses a plan whose live state changed since).\n"
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


def to_document(plan: Plan) -> dict[str, Any]:
    """The plan as plain data in file layout: `format_version`, `header`, `summary`, `changes`.

    Also what `show --format json` prints, so every view reads the same document.
    """
    header = plan.header.model_dump(mode="json", exclude={"format_version"})
    header["fingerprints"] = _sorted(header["fingerprints"])
    header["targets"] = _sorted(header["targets"])
    changes = []
    for change in plan.changes:
        data = change.model_dump(mode="json", exclude_defaults=True)
        for key in ("before", "after"):
            if key in data:
                data[key] = _sorted(data[key])
        changes.append({k: data[k] for k in _CHANGE_ORDER if k in data})
    content = {target: _sorted(summary.model_dump(mode="json"))
               for target, summary in sorted(plan.content.items())}
    return {"format_version": plan.header.format_version, "header": header,
            "summary": plan.summary, "content": content, "changes": changes}


_CHANGE_ORDER = ("address", "action", "kind", "phase", "destructive", "rows_affected", "manual",
                 "note", "lagging", "before", "after", "sql")


def dumps(plan: Plan) -> str:
    """The plan file's text."""
    buf = io.StringIO()
    _yaml().dump(to_document(plan), buf)
    return _HEADER_COMMENT + buf.getvalue()


def save(plan: Plan, path: Path) -> None:
    """Write the plan to `path` (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(plan), encoding="utf-8")


def from_document(doc: Any, source: str) -> Plan:
    """Rebuild a `Plan` from its document. Raises `PlanFileError` naming `source`."""
    if not isinstance(doc, dict) or "format_version" not in doc:
        raise PlanFileError(f"{source}: not a reconciler plan file (no format_version)")
    if doc["format_version"] != FORMAT_VERSION:
        raise PlanFileError(
            f"{source}: plan format_version {doc['format_version']!r} is not supported by this "
            f"reconciler (it reads version {FORMAT_VERSION}); make the plan again with this version")
    header = doc.get("header") or {}
    if not isinstance(header, dict):
        what = {str: "text", int: "a number", float: "a number", bool: "a boolean",
                list: "a list"}.get(type(header), type(header).__name__)
        raise PlanFileError(f"{source}: invalid plan file at header: it is {what}, not a "
                            "mapping (was the file edited by hand? make the plan again)")
    try:
        return Plan.model_validate({"header": dict(header, format_version=doc["format_version"]),
                                    "changes": doc.get("changes") or [],
                                    "content": doc.get("content") or {}})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanFileError(f"{source}: invalid plan file at {where}: {first['msg']}") from None


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
                            f"({issue.message})")
    return from_document(parsed.data, str(path))
