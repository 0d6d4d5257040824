"""Every data source of the recorded Notion sessions, loaded into a local Notion.

The recordings (`tests/recordings/` when vendored, else `shared/notion-recordings/`) hold 47
data source objects as Notion returned them (API 2025-09-03). `load_recorded_workspace` creates
each one in a local Notion the way a person would have built it: each database on a page of its
own (the recorded workspaces kept several databases of one title under one page, which a spec
cannot declare: `importer.run` refuses it, tested apart), each database with its title, description and properties (options with their colours,
number formats, unique id prefixes), then the relations (two-way ones from one side, the synced
property renamed to its recorded name), then rollups and formulas (the recorded
`{{notion:block_property:…}}` references written back as `prop("Name")`), then what only the
Notion UI makes (button and verification properties: `local.ui`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import yaml

from reconciler.local import ui

RECORDINGS = next((p for base in Path(__file__).resolve().parents
                   for p in (base / "tests" / "recordings", base / "shared" / "notion-recordings")
                   if p.is_dir() and any(p.rglob("*.yaml"))), None)
REFERENCE = re.compile(r"\{\{notion:block_property:([^:}]+):([0-9a-fA-F-]+):[^}]*\}\}")
LATER = ("relation", "rollup", "formula", "button", "verification")


def _bare(i: str) -> str:
    return i.replace("-", "").lower()


def _body(interaction: dict):
    response = interaction.get("response") or {}
    text = response.get("content")
    if text is None:
        text = (response.get("body") or {}).get("string")
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _walk(obj):
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v)


def recorded_data_sources(folder: Path | None = RECORDINGS) -> dict[str, dict]:
    """Bare data source id → the last recorded data source object with that id."""
    found: dict[str, dict] = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(folder.rglob("*.yaml")) if folder else ():
        for interaction in yaml.load(path.read_text(encoding="utf-8"), Loader=loader)["interactions"]:  # noqa: S506
            for obj in _walk(_body(interaction)):
                if obj.get("object") == "data_source" and isinstance(obj.get("properties"), dict):
                    found[_bare(obj["id"])] = obj
    return found


def _text(rich) -> str:
    return "".join(item.get("plain_text") or "" for item in rich or ())


def _rich(text: str) -> list[dict]:
    return [{"type": "text", "text": {"content": text}}] if text else []


@dataclass
class Loaded:
    """What was made: recorded data source id → local data source id, and local id → title."""

    sources: dict[str, str]
    titles: dict[str, str]


def _config(kind: str, config: dict) -> dict:
    if kind == "number":
        return {"format": config.get("format") or "number"}
    if kind in ("select", "multi_select", "status"):
        return {"options": [{"name": o["name"], "color": o.get("color") or "default",
                             **({"description": o["description"]} if o.get("description") else {})}
                            for o in config.get("options") or ()]}
    if kind == "unique_id":
        return {"prefix": config.get("prefix")} if config.get("prefix") else {}
    return {}


def load_recorded_workspace(client, root_page: str, store: Path,
                            sources: dict[str, dict] | None = None, *, own_pages: bool = True
                            ) -> Loaded:
    """Create every recorded data source in the local Notion reached by `client` (stored under
    `store`), under pages below `root_page`: one page per data source, or with `own_pages=False`
    one per recorded parent page. Returns the id mapping."""
    sources = recorded_data_sources() if sources is None else sources
    parents: dict[str, str] = {}
    made: dict[str, str] = {}
    databases: dict[str, str] = {}
    for rid, ds in sources.items():
        parent = rid if own_pages else (ds.get("database_parent") or {}).get("page_id") or "root"
        if parent not in parents:
            page = client.pages.create(parent={"page_id": root_page}, properties={
                "title": {"title": _rich(f"Recorded page {parent[:8]}")}})
            parents[parent] = page["id"]
        props = {name: {"type": p["type"], p["type"]: _config(p["type"], p.get(p["type"]) or {}),
                        **({"description": p["description"]} if p.get("description") else {})}
                 for name, p in ds["properties"].items() if p["type"] not in LATER}
        db = client.databases.create(
            parent={"type": "page_id", "page_id": parents[parent]}, title=_rich(_text(ds.get("title"))),
            description=_rich(_text(ds.get("description"))),
            initial_data_source={"properties": props})
        made[rid] = db["data_sources"][0]["id"]
        databases[rid] = db["id"]
    _relations(client, sources, made)
    _computed(client, sources, made)
    _ui_only(client, sources, made, store)
    return Loaded(made, {made[r]: _text(ds.get("title")) for r, ds in sources.items()})


def _relations(client, sources: dict[str, dict], made: dict[str, str]) -> None:
    done: set[tuple[str, str]] = set()
    for rid, ds in sources.items():
        for name, p in ds["properties"].items():
            if p["type"] != "relation" or (rid, name) in done:
                continue
            rel = p["relation"]
            target = _bare(rel["data_source_id"])
            kind = rel.get("type", "single_property")
            client.data_sources.update(made[rid], properties={name: {"relation": {
                "data_source_id": made[target], "type": kind, kind: {}}}})
            done.add((rid, name))
            if kind == "dual_property":
                synced = rel["dual_property"]["synced_property_name"]
                done.add((target, synced))
                live = client.data_sources.retrieve(made[rid])["properties"][name]["relation"]
                created = live["dual_property"]["synced_property_name"]
                if created != synced:
                    client.data_sources.update(made[target], properties={created: {"name": synced}})


def _computed(client, sources: dict[str, dict], made: dict[str, str]) -> None:
    names = {(_bare(rid), unquote(p["id"])): name for rid, ds in sources.items()
             for name, p in ds["properties"].items()}
    for rid, ds in sources.items():
        for name, p in ds["properties"].items():
            if p["type"] == "rollup":
                r = p["rollup"]
                body = {"rollup": {"function": r["function"],
                                   "relation_property_name": r["relation_property_name"],
                                   "rollup_property_name": r["rollup_property_name"]}}
            elif p["type"] == "formula":
                text = REFERENCE.sub(lambda m: "prop(" + json.dumps(
                    names.get((_bare(m.group(2)), unquote(m.group(1))), m.group(0))) + ")",
                    p["formula"]["expression"])
                body = {"formula": {"expression": text}}
            else:
                continue
            client.data_sources.update(made[rid], properties={name: body})


def _ui_only(client, sources: dict[str, dict], made: dict[str, str], store: Path) -> None:
    for rid, ds in sources.items():
        for name, p in ds["properties"].items():
            if p["type"] in ("button", "verification"):
                ui.add_property(store, made[rid], name, p["type"])
