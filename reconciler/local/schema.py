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
* A ``dual_property`` relation creates the synced property on the related data source, named
  ``Related to <source database title> (<property name>)`` (§3.3, test_update_prop_type_attrs.yaml #11).
* ``button``/``verification`` are response-only and ignored by schema writes (§3.5).
* A type change re-creates the options (option ids sent are ignored) and converts the values as
  Notion does (§3.3; ``retype``). Sending a select/multi_select config without ``description``
  clears the description (§3.4).
* Rollup ``relation_property_id``/``rollup_property_id`` are returned decoded (``"v_]<"``, A.1).
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any
from urllib.parse import unquote

from .common import new_property_id, new_uuid, now_minute, parse_uuid, plain
from .errors import not_found, too_long, validation
from .props import COLORS, TYPES, check_option_name, find_property, ordered_properties
from .retype import convert_values
from .store import Store

IGNORED = ("button", "verification")
_PROP_REF = re.compile(r'prop\("((?:[^"\\]|\\.)*)"\)')
_STATUS_DEFAULT = (("Not started", "default", "To-do", "gray"), ("In progress", "blue", "In progress", "blue"),
                   ("Done", "green", "Complete", "green"))


def _type_of(key: str, cfg: dict[str, Any]) -> str | None:
    t = cfg.get("type")
    if t is None:
        t = next((k for k in cfg if k in TYPES), None)
    if t is not None and t not in TYPES:
        raise validation(f"body failed validation: body.properties.{key}.type should be a valid property type, "
                         f"instead was `\"{t}\"`.")
    return t


def _new_option(o: dict[str, Any], path: str) -> dict[str, Any]:
    color = o.get("color") or "default"
    if color not in COLORS:
        raise validation(f"body failed validation: {path}.color should be one of {list(COLORS)}, instead was `\"{color}\"`.")
    return {"id": new_uuid(), "name": check_option_name(o.get("name"), path), "color": color,
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
        in_group = req.get("group") or home.get(o["id"]) or groups[0]["name"]
        group = next((g for g in groups if g["name"] == in_group), groups[0])
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
    related = cfg.get("data_source_id")
    if related is None and cfg.get("database_id"):
        db = store.database(parse_uuid(cfg["database_id"], f"{path}.database_id"))
        related = db["data_sources"][0] if db else None
    if related is None:
        raise validation(f"body failed validation: {path}.data_source_id should be defined, instead was `undefined`.")
    related = parse_uuid(related, f"{path}.data_source_id")
    if store.data_source(related) is None:
        raise not_found("data source", related)
    kind = cfg.get("type") or ("dual_property" if "dual_property" in cfg else "single_property")
    if kind not in ("single_property", "dual_property"):
        raise validation(f"body failed validation: {path}.type should be `\"single_property\"` or `\"dual_property\"`.")
    return {"data_source_id": related, "type": kind}


def _rollup_config(ds: dict[str, Any], store: Store, cfg: dict[str, Any], path: str) -> dict[str, Any]:
    rel = find_property(ds, cfg.get("relation_property_id") or cfg.get("relation_property_name") or "")
    if rel is None or rel["type"] != "relation":
        raise validation(f"Relation property for rollup not found: {path}.relation_property_name.")
    related = store.data_source(rel["config"]["data_source_id"])
    rolled = find_property(related, cfg.get("rollup_property_id") or cfg.get("rollup_property_name") or "") if related else None
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
    """Create the dual relation's synced property on the related data source (§3.3)."""
    related = ds if prop["config"]["data_source_id"] == ds["id"] else store.data_source(prop["config"]["data_source_id"])
    db = store.database(ds["database_id"]) or {}
    base = f"Related to {plain(db.get('title')) or plain(ds['title'])} ({prop['name']})"
    names = {p["name"] for p in related["properties"]}
    name, n = base, 1
    while name in names:
        n += 1
        name = f"{base} {n}"
    synced = {"id": new_property_id({p["id"] for p in related["properties"]} | {prop["id"]}), "name": name,
              "description": None, "type": "relation",
              "config": {"data_source_id": ds["id"], "type": "dual_property", "synced_property_id": prop["id"]}}
    related["properties"].append(synced)
    prop["config"]["synced_property_id"] = synced["id"]


def _number_existing(store: Store, ds: dict[str, Any], prop: dict[str, Any]) -> None:
    rows = store.pages_in(ds["id"])
    for n, page in enumerate(rows, 1):
        page["values"][prop["id"]] = n
    ds.setdefault("counters", {})[prop["id"]] = len(rows)


def _create_property(store: Store, ds: dict[str, Any], key: str, ptype: str | None, cfg: dict[str, Any],
                     path: str, creating: bool) -> None:
    if ptype is None:
        raise validation(f"body failed validation: {path}.type should be defined, instead was `undefined`.")
    if ptype == "title" and any(p["type"] == "title" for p in ds["properties"]):
        raise validation("Cannot create a second title property; a data source has exactly one title property.")
    pid = "title" if ptype == "title" else new_property_id({p["id"] for p in ds["properties"]})
    prop = {"id": pid, "name": cfg.get("name") or key, "description": cfg.get("description"), "type": ptype,
            "config": {}}
    prop["config"] = _build_config(store, ds, ptype, cfg.get(ptype), None, path + "." + ptype)
    ds["properties"].append(prop)
    if ptype == "relation" and prop["config"]["type"] == "dual_property":
        _make_synced(store, ds, prop)
    if ptype == "unique_id" and not creating:
        _number_existing(store, ds, prop)


def _retype(store: Store, ds: dict[str, Any], prop: dict[str, Any], ptype: str, cfg: dict[str, Any],
            path: str) -> None:
    """A type change. Option ids sent are ignored and the options re-created; select ⇄ multi_select
    without options keep the option names and colours; values are converted as Notion converts them
    (NOTION-API.md §3.3 matrix; ``retype``)."""
    if "title" in (ptype, prop["type"]):
        raise validation(f"Cannot change the type of property {prop['name']} to {ptype}: the title property "
                         "cannot be converted and no other property can become the title.")
    if "place" in (ptype, prop["type"]):
        raise validation(f"Place properties cannot be converted to or from another type ({prop['name']}).")
    before = copy.deepcopy(prop)
    sent = cfg.get(ptype) if isinstance(cfg.get(ptype), dict) else {}
    if isinstance(sent.get("options"), list):
        sent = dict(sent, options=[{k: v for k, v in o.items() if k != "id"} if isinstance(o, dict) else o
                                   for o in sent["options"]])
    elif {ptype, prop["type"]} == {"select", "multi_select"}:
        sent = dict(sent, options=[{"name": o["name"], "color": o["color"], "description": o.get("description")}
                                   for o in prop["config"]["options"]])
    prop["type"] = ptype
    prop["config"] = _build_config(store, ds, ptype, sent, None, path + "." + ptype)
    convert_values(store, ds, before, prop)
    if ptype == "relation" and prop["config"]["type"] == "dual_property":
        _make_synced(store, ds, prop)
    if ptype == "unique_id":
        _number_existing(store, ds, prop)


def _reconfigure(store: Store, ds: dict[str, Any], prop: dict[str, Any], ptype: str, cfg: dict[str, Any],
                 path: str) -> None:
    old = prop["config"]
    new = _build_config(store, ds, ptype, cfg.get(ptype), old, path + "." + ptype)
    if ptype == "relation":
        same_data_source = new["data_source_id"] == old["data_source_id"]
        if new["type"] == "dual_property" and old["type"] == "dual_property" and same_data_source:
            new["synced_property_id"] = old.get("synced_property_id")
        prop["config"] = new
        if new["type"] == "dual_property" and not new.get("synced_property_id"):
            _make_synced(store, ds, prop)
        return
    prop["config"] = new


def _update_property(store: Store, ds: dict[str, Any], prop: dict[str, Any], ptype: str | None,
                     cfg: dict[str, Any], path: str) -> None:
    """Rename, describe, retype or reconfigure one existing property. Sending a select or
    multi_select config without ``description`` clears the description ("When changing
    select/multi_select settings, re-send the property-level description or it is cleared",
    NOTION-API.md §3.4, DOC26:update-property-schema-object)."""
    if "name" in cfg and cfg["name"] is not None:
        if not isinstance(cfg["name"], str) or not cfg["name"].strip():
            raise validation(f"body failed validation: {path}.name should be a non-empty string.")
        prop["name"] = cfg["name"]
    if "description" in cfg:
        prop["description"] = cfg["description"]
    elif ptype in ("select", "multi_select") and isinstance(cfg.get(ptype), dict):
        prop["description"] = None
    if ptype is None:
        return
    if ptype != prop["type"]:
        _retype(store, ds, prop, ptype, cfg, path)
    else:
        _reconfigure(store, ds, prop, ptype, cfg, path)


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
            _create_property(store, ds, key, ptype, cfg, path, creating)
        else:
            _update_property(store, ds, prop, ptype, cfg, path)
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
        related = store.data_source(c["data_source_id"]) or {}
        out = {"database_id": related.get("database_id"), "data_source_id": c["data_source_id"], "type": c["type"]}
        if c["type"] == "dual_property":
            synced = find_property(related, c.get("synced_property_id") or "\0") if related else None
            out["dual_property"] = {"synced_property_name": synced["name"] if synced else None,
                                    "synced_property_id": c.get("synced_property_id")}
        else:
            out["single_property"] = {}
        return out
    if t == "rollup":
        rel = find_property(ds, c["relation_property_id"])
        related = (store.data_source(rel["config"]["data_source_id"]) or {}) if rel and rel["type"] == "relation" else {}
        rolled = find_property(related, c["rollup_property_id"]) if related else None
        return {"rollup_property_name": rolled["name"] if rolled else None,
                "relation_property_name": rel["name"] if rel else None,
                "rollup_property_id": unquote(c["rollup_property_id"]),
                "relation_property_id": unquote(c["relation_property_id"]),
                "function": c["function"]}
    return dict(c)


def render_properties(store: Store, ds: dict[str, Any]) -> dict[str, Any]:
    """``properties`` of a data source object: name → ``{id, name, description, type, <type>: config}``.

    Order as Notion's responses: by id, the title last (REC:UN/fixtures/mod_all_props_db.yaml).
    """
    return {p["name"]: {"id": p["id"], "name": p["name"], "description": p["description"], "type": p["type"],
                        p["type"]: render_config(store, ds, p)} for p in ordered_properties(ds)}


def new_data_source(store: Store, database_id: str, title: list[dict[str, Any]], props: Any,
                    icon: Any = None, cover: Any = None) -> dict[str, Any]:
    """Create and register a data source with ``props`` (a title property ``Name`` if none is given)."""
    ts = now_minute()
    ds = {"id": new_uuid(), "database_id": database_id, "title": title, "properties": [], "icon": icon,
          "cover": cover, "in_trash": False, "created_time": ts, "last_edited_time": ts, "counters": {},
          "seq": store.next_seq(), "created_at": time.time()}
    store.add("data_sources", ds)
    update_properties(store, ds, props if props is not None else {}, creating=True)
    if not any(p["type"] == "title" for p in ds["properties"]):
        update_properties(store, ds, {"Name": {"title": {}}}, creating=True)
    return ds
