"""Data source property schemas: create, update (``PATCH /v1/data_sources/{id}``) and render.

Rules implemented (NOTION-API.md §2, §3):

* ``properties`` keys are names or ids; ``null`` deletes; ``name`` renames; a config sent under the same
  type updates in place and keeps the id; new ids are short URL-encoded ids, the title's is ``title``.
* Title: exactly one, cannot be deleted or retyped, nothing can become a title (§3.2) → 400.
* Options (select/multi_select/status) are replace-all; re-sent options keep their ids; a rename sent with
  the option id is ignored (200, nothing changes); a color change → 400 (§3.4). Names: no commas, ≤ 100
  characters, unique ignoring case.
* ``status: {}`` creates Not started / In progress / Done in groups To-do / In progress / Complete
  (§3.4, REC:UN/fixtures/mod_all_props_db.yaml).
* Formula ``prop("Name")`` references are stored rewritten to
  ``{{notion:block_property:<prop id>:<data source id>:<workspace id>}}`` (§2, test_all_createable_props_schema #29).
* A ``dual_property`` relation creates the synced property on the target data source, named
  ``Related to <source database title> (<property name>)`` (§3.3, test_update_prop_type_attrs.yaml #11).
* ``button``/``verification`` are response-only and ignored by schema writes (§3.5).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from .errors import NotionError, not_found, too_long, validation
from .store import Store, new_property_id, new_uuid, parse_uuid, plain

TYPES = ("title", "rich_text", "number", "select", "multi_select", "status", "date", "people", "files",
         "checkbox", "url", "email", "phone_number", "formula", "relation", "rollup", "created_time",
         "created_by", "last_edited_time", "last_edited_by", "unique_id", "place", "button", "verification")
IGNORED = ("button", "verification")
COLORS = ("default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red")
_PROP_REF = re.compile(r'prop\("((?:[^"\\]|\\.)*)"\)')
_STATUS_DEFAULT = (("Not started", "default", "To-do", "gray"), ("In progress", "blue", "In progress", "blue"),
                   ("Done", "green", "Complete", "green"))


def find_property(ds: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The stored property whose id (encoded or not) or else name equals ``key``."""
    dkey = unquote(key)
    for prop in ds["properties"]:
        if unquote(prop["id"]) == dkey:
            return prop
    for prop in ds["properties"]:
        if prop["name"] == key:
            return prop
    return None


def title_property(ds: dict[str, Any]) -> dict[str, Any]:
    """The data source's title property (id ``title``)."""
    return next(p for p in ds["properties"] if p["type"] == "title")


def _type_of(key: str, cfg: dict[str, Any]) -> str | None:
    t = cfg.get("type")
    if t is None:
        t = next((k for k in cfg if k in TYPES), None)
    if t is not None and t not in TYPES:
        raise validation(f"body failed validation: body.properties.{key}.type should be a valid property type, "
                         f"instead was `\"{t}\"`.")
    return t


def _check_option_name(name: Any, path: str) -> str:
    if not isinstance(name, str) or not name:
        raise validation(f"body failed validation: {path}.name should be a string, instead was `{name!r}`.")
    if "," in name:
        raise validation(f"Invalid select option, commas not allowed: {name}")
    if len(name) > 100:
        raise too_long(f"{path}.name", 100, len(name))
    return name


def _new_option(o: dict[str, Any], path: str) -> dict[str, Any]:
    color = o.get("color") or "default"
    if color not in COLORS:
        raise validation(f"body failed validation: {path}.color should be one of {list(COLORS)}, instead was `\"{color}\"`.")
    return {"id": new_uuid(), "name": _check_option_name(o.get("name"), path), "color": color,
            "description": o.get("description")}


def _merge_options(existing: list[dict[str, Any]], sent: Any, path: str) -> list[dict[str, Any]]:
    """Replace-all option list; re-sent options (by id, else by name) keep id, name and color."""
    if not isinstance(sent, list):
        raise validation(f"body failed validation: {path} should be an array, instead was `{sent!r}`.")
    if len(sent) > 100:
        raise too_long(path, 100, len(sent))
    by_id = {o["id"]: o for o in existing}
    by_name = {o["name"].lower(): o for o in existing}
    out: list[dict[str, Any]] = []
    for i, o in enumerate(sent):
        p = f"{path}[{i}]"
        if not isinstance(o, dict):
            raise validation(f"body failed validation: {p} should be an object.")
        old = by_id.get(o.get("id")) if o.get("id") else None
        if old is None and isinstance(o.get("name"), str):
            old = by_name.get(o["name"].lower())
        if old is None and o.get("id"):
            raise validation(f"Invalid select option id: {o['id']}")
        if old is not None:
            if o.get("color") and o["color"] != old["color"]:
                raise validation(f"Cannot update color of select with name: {old['name']}.")
            kept = dict(old)
            if "description" in o:
                kept["description"] = o["description"]
            out.append(kept)  # a rename sent with the option id is ignored (§3.4)
        else:
            out.append(_new_option(o, p))
    names = [o["name"].lower() for o in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise validation(f"Duplicate select option names are not allowed: {dup}")
    return out


def _status_config(sent: dict[str, Any], old: dict[str, Any] | None, path: str) -> dict[str, Any]:
    if old is None:
        groups = [{"id": new_uuid(), "name": g, "color": gc, "option_ids": []} for _, _, g, gc in _STATUS_DEFAULT]
        if "options" not in sent:
            options = []
            for (name, color, _, _), group in zip(_STATUS_DEFAULT, groups):
                opt = {"id": new_uuid(), "name": name, "color": color, "description": None}
                options.append(opt)
                group["option_ids"].append(opt["id"])
            return {"options": options, "groups": groups}
        old = {"options": [], "groups": groups}
    if "options" not in sent:
        return old
    options = _merge_options(old["options"], sent["options"], f"{path}.options")
    groups = [dict(g, option_ids=[]) for g in old["groups"]]
    home = {oid: g["name"] for g in old["groups"] for oid in g["option_ids"]}
    for o, req in zip(options, sent["options"]):
        target = req.get("group") or home.get(o["id"]) or groups[0]["name"]
        group = next((g for g in groups if g["name"] == target), groups[0])
        group["option_ids"].append(o["id"])
    return {"options": options, "groups": groups}


def _rewrite_formula(store: Store, ds: dict[str, Any], expression: Any, path: str) -> str:
    if not isinstance(expression, str):
        raise validation(f"body failed validation: {path}.expression should be a string.")

    def repl(m: re.Match[str]) -> str:
        name = m.group(1).replace('\\"', '"')
        prop = find_property(ds, name)
        if prop is None:
            raise validation(f"Type error with formula: property \"{name}\" not found.")
        return f"{{{{notion:block_property:{prop['id']}:{ds['id']}:{store.workspace_id}}}}}"

    return _PROP_REF.sub(repl, expression)


def _relation_config(store: Store, cfg: dict[str, Any], path: str) -> dict[str, Any]:
    target = cfg.get("data_source_id")
    if target is None and cfg.get("database_id"):
        db = store.databases.get(parse_uuid(cfg["database_id"], f"{path}.database_id"))
        target = db["data_sources"][0] if db else None
    if target is None:
        raise validation(f"body failed validation: {path}.data_source_id should be defined, instead was `undefined`.")
    target = parse_uuid(target, f"{path}.data_source_id")
    if target not in store.data_sources:
        raise not_found("data source", target)
    kind = cfg.get("type") or ("dual_property" if "dual_property" in cfg else "single_property")
    if kind not in ("single_property", "dual_property"):
        raise validation(f"body failed validation: {path}.type should be `\"single_property\"` or `\"dual_property\"`.")
    return {"data_source_id": target, "type": kind}


def _rollup_config(ds: dict[str, Any], store: Store, cfg: dict[str, Any], path: str) -> dict[str, Any]:
    rel = find_property(ds, cfg.get("relation_property_id") or cfg.get("relation_property_name") or "")
    if rel is None or rel["type"] != "relation":
        raise validation(f"Relation property for rollup not found: {path}.relation_property_name.")
    target = store.data_sources.get(rel["config"]["data_source_id"])
    rolled = find_property(target, cfg.get("rollup_property_id") or cfg.get("rollup_property_name") or "") if target else None
    if rolled is None:
        raise validation(f"Rollup property not found: {path}.rollup_property_name.")
    return {"relation_property_id": rel["id"], "rollup_property_id": rolled["id"],
            "function": cfg.get("function") or "show_original"}


def _build_config(store: Store, ds: dict[str, Any], ptype: str, cfg: Any, old: dict[str, Any] | None,
                  path: str) -> dict[str, Any]:
    cfg = cfg if isinstance(cfg, dict) else {}
    if ptype == "number":
        return {"format": cfg.get("format") or (old or {}).get("format", "number")}
    if ptype in ("select", "multi_select"):
        if "options" not in cfg:
            return old or {"options": []}
        return {"options": _merge_options((old or {}).get("options", []), cfg["options"], f"{path}.options")}
    if ptype == "status":
        return _status_config(cfg, old, path)
    if ptype == "formula":
        if "expression" not in cfg and old:
            return old
        return {"expression": _rewrite_formula(store, ds, cfg.get("expression"), path)}
    if ptype == "relation":
        return _relation_config(store, cfg, path)
    if ptype == "rollup":
        return _rollup_config(ds, store, cfg, path)
    if ptype == "unique_id":
        prefix = cfg["prefix"] if "prefix" in cfg else (old or {}).get("prefix")
        return {"prefix": prefix}
    return {}


def _make_synced(store: Store, ds: dict[str, Any], prop: dict[str, Any]) -> None:
    """Create the dual relation's synced property on the target data source (§3.3)."""
    target = store.data_sources[prop["config"]["data_source_id"]]
    db = store.databases.get(ds["database_id"], {})
    base = f"Related to {plain(db.get('title')) or plain(ds['title'])} ({prop['name']})"
    names = {p["name"] for p in target["properties"]}
    name, n = base, 1
    while name in names:
        n += 1
        name = f"{base} {n}"
    synced = {"id": new_property_id({p["id"] for p in target["properties"]} | {prop["id"]}), "name": name,
              "description": None, "type": "relation",
              "config": {"data_source_id": ds["id"], "type": "dual_property", "synced_property_id": prop["id"]}}
    target["properties"].append(synced)
    prop["config"]["synced_property_id"] = synced["id"]


def _retype_values(store: Store, ds: dict[str, Any], prop: dict[str, Any], old_type: str) -> None:
    """After a type change: values become text for rich_text/url targets, else are cleared (§3.3, simplified)."""
    from .values import text_of_stored  # local import: values depends on schema

    for page in store.pages.values():
        if page["parent"].get("data_source_id") != ds["id"] or prop["id"] not in page["values"]:
            continue
        text = text_of_stored(store, ds, dict(prop, type=old_type), page["values"][prop["id"]], old_config=None)
        page["values"].pop(prop["id"])
        if prop["type"] == "rich_text" and text:
            from .store import text_rich
            page["values"][prop["id"]] = text_rich(text)
        elif prop["type"] == "url" and text:
            page["values"][prop["id"]] = text


def _number_existing(store: Store, ds: dict[str, Any], prop: dict[str, Any]) -> None:
    rows = sorted((p for p in store.pages.values() if p["parent"].get("data_source_id") == ds["id"]),
                  key=lambda p: p["seq"])
    for n, page in enumerate(rows, 1):
        page["values"][prop["id"]] = n
    ds.setdefault("counters", {})[prop["id"]] = len(rows)


def update_properties(store: Store, ds: dict[str, Any], props: Any, *, creating: bool = False) -> None:
    """Apply a ``properties`` object (create or PATCH) to ``ds`` in place; raises NotionError (400/404)."""
    if not isinstance(props, dict):
        raise validation(f"body failed validation: body.properties should be an object, instead was `{props!r}`.")
    # formulas and rollups last: they reference properties created in the same request
    order = sorted(props.items(), key=lambda kv: isinstance(kv[1], dict) and _type_of(kv[0], kv[1]) in ("formula", "rollup"))
    for key, cfg in order:
        path = f"body.properties.{key}"
        prop = find_property(ds, key)
        if cfg is None:
            if prop is None:
                raise validation(f"Could not find property with name or id: {key}")
            if prop["type"] == "title":
                raise validation("Cannot delete the title property of a data source.")
            ds["properties"].remove(prop)
            continue
        if not isinstance(cfg, dict):
            raise validation(f"body failed validation: {path} should be an object or `null`, instead was `{cfg!r}`.")
        ptype = _type_of(key, cfg)
        if ptype in IGNORED:
            continue
        if prop is None:
            if ptype is None:
                raise validation(f"body failed validation: {path}.type should be defined, instead was `undefined`.")
            if ptype == "title" and any(p["type"] == "title" for p in ds["properties"]):
                raise validation("Cannot create a second title property; a data source has exactly one title property.")
            name = cfg.get("name") or key
            pid = "title" if ptype == "title" else new_property_id({p["id"] for p in ds["properties"]})
            prop = {"id": pid, "name": name, "description": cfg.get("description"), "type": ptype, "config": {}}
            prop["config"] = _build_config(store, ds, ptype, cfg.get(ptype), None, path + "." + ptype)
            ds["properties"].append(prop)
            if ptype == "relation" and prop["config"]["type"] == "dual_property":
                _make_synced(store, ds, prop)
            if ptype == "unique_id" and not creating:
                _number_existing(store, ds, prop)
            continue
        if "name" in cfg and cfg["name"] is not None:
            if not isinstance(cfg["name"], str) or not cfg["name"].strip():
                raise validation(f"body failed validation: {path}.name should be a non-empty string.")
            prop["name"] = cfg["name"]
        if "description" in cfg:
            prop["description"] = cfg["description"]
        if ptype is None:
            continue
        if ptype != prop["type"]:
            if "title" in (ptype, prop["type"]):
                raise validation(f"Cannot change the type of property {prop['name']} to {ptype}: the title property "
                                 "cannot be converted and no other property can become the title.")
            if "place" in (ptype, prop["type"]):
                raise validation(f"Place properties cannot be converted to or from another type ({prop['name']}).")
            old_type = prop["type"]
            prop["type"] = ptype
            prop["config"] = _build_config(store, ds, ptype, cfg.get(ptype), None, path + "." + ptype)
            _retype_values(store, ds, prop, old_type)
            if ptype == "relation" and prop["config"]["type"] == "dual_property":
                _make_synced(store, ds, prop)
            if ptype == "unique_id":
                _number_existing(store, ds, prop)
            continue
        old = prop["config"]
        new = _build_config(store, ds, ptype, cfg.get(ptype), old, path + "." + ptype)
        if ptype == "relation":
            same_target = new["data_source_id"] == old["data_source_id"]
            if new["type"] == "dual_property" and old["type"] == "dual_property" and same_target:
                new["synced_property_id"] = old.get("synced_property_id")
            prop["config"] = new
            if new["type"] == "dual_property" and not new.get("synced_property_id"):
                _make_synced(store, ds, prop)
            continue
        prop["config"] = new
    names = [p["name"] for p in ds["properties"]]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise validation(f"Property names must be unique within a data source: \"{dup}\" is used twice.")
    if not creating and not any(p["type"] == "title" for p in ds["properties"]):
        raise validation("A data source must have exactly one title property.")


def render_config(store: Store, ds: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """The type config as Notion returns it (NOTION-API.md §2 table, A.1)."""
    t, c = prop["type"], prop["config"]
    if t == "relation":
        target = store.data_sources.get(c["data_source_id"], {})
        out = {"database_id": target.get("database_id"), "data_source_id": c["data_source_id"], "type": c["type"]}
        if c["type"] == "dual_property":
            synced = find_property(target, c.get("synced_property_id") or "\0") if target else None
            out["dual_property"] = {"synced_property_name": synced["name"] if synced else None,
                                    "synced_property_id": c.get("synced_property_id")}
        else:
            out["single_property"] = {}
        return out
    if t == "rollup":
        rel = find_property(ds, c["relation_property_id"])
        target = store.data_sources.get(rel["config"]["data_source_id"], {}) if rel and rel["type"] == "relation" else {}
        rolled = find_property(target, c["rollup_property_id"]) if target else None
        return {"rollup_property_name": rolled["name"] if rolled else None,
                "relation_property_name": rel["name"] if rel else None,
                "rollup_property_id": c["rollup_property_id"], "relation_property_id": c["relation_property_id"],
                "function": c["function"]}
    return dict(c)


def render_properties(store: Store, ds: dict[str, Any]) -> dict[str, Any]:
    """``properties`` of a data source object: name → ``{id, name, description, type, <type>: config}``.

    Order as Notion's responses: by id, the title last (REC:UN/fixtures/mod_all_props_db.yaml).
    """
    ordered = sorted(ds["properties"], key=lambda p: (p["type"] == "title", unquote(p["id"])))
    return {p["name"]: {"id": p["id"], "name": p["name"], "description": p["description"], "type": p["type"],
                        p["type"]: render_config(store, ds, p)} for p in ordered}


def new_data_source(store: Store, database_id: str, title: list[dict[str, Any]], props: Any,
                    icon: Any = None, cover: Any = None) -> dict[str, Any]:
    """Create and register a data source with ``props`` (a title property ``Name`` if none is given)."""
    from .store import now_minute

    ts = now_minute()
    ds = {"id": new_uuid(), "database_id": database_id, "title": title, "properties": [], "icon": icon,
          "cover": cover, "in_trash": False, "created_time": ts, "last_edited_time": ts, "counters": {}}
    store.data_sources[ds["id"]] = ds
    try:
        update_properties(store, ds, props if props is not None else {}, creating=True)
        if not any(p["type"] == "title" for p in ds["properties"]):
            update_properties(store, ds, {"Name": {"title": {}}}, creating=True)
    except NotionError:
        del store.data_sources[ds["id"]]
        raise
    return ds
