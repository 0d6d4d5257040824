"""Replay real recorded Notion traffic against the local Notion and compare shapes.

For every cassette in ``shared/notion-recordings`` (vcrpy, Notion-Version 2025-09-03), each request to an
endpoint the local Notion implements is replayed on a fresh workspace through an in-process transport.
Recorded ids are mapped to the ids the local server handed out at the same place in its responses (as
``shared/tools/notion-replay.py`` does), UUIDs and — additionally — property ids (matched by property
name). Asserted per interaction: the status, and that the response has every recorded top-level key with
the same JSON value type, likewise for each property schema and each page property value.

Documented differences, tolerated explicitly:
* Interactions whose request refers to a recorded object the replay never created (the recorded
  workspaces' pre-existing databases, pages, users) are skipped: they do not exist locally.
* Pages hold no content blocks locally: appending children is not replayed, nor a children list whose
  recorded answer holds content blocks (paragraphs); lists of child pages and databases are.
* People/mention users that are not in the local workspace are returned as partial users ``{object, id}``
  (allowed by Notion, NOTION-API.md §2).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, unquote

import httpx
import pytest

from reconciler.local import LocalNotion
from tests.conftest import load_cassette

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"  # shared/notion-recordings, vendored
CASSETTES = sorted(RECORDINGS.rglob("*.yaml")) if RECORDINGS.exists() else []
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
KEEP = re.compile(r"^/v1/(databases|data_sources|pages|users/me|search|blocks/[^/]+$|blocks/[^/]+/children$)")
SKIP_PATHS = ("/templates", "/markdown")
RECORDED_ROOTS = ("00000000-0000-4000-8000-000000000001", "393abc1eedcd80f3813be205934558c6")
HEADERS = {"Authorization": "Bearer conformance", "Notion-Version": "2025-09-03",
           "Content-Type": "application/json"}
TOTALS = {"passed": 0, "replayed": 0, "skipped": 0}


def _norm(u: str) -> str:
    return u.replace("-", "")


def _jtype(v) -> str:
    return {dict: "object", list: "array", str: "string", bool: "bool", type(None): "null"}.get(type(v), "number")


def _learn(rec, loc, ids: dict, pids: dict) -> None:
    if isinstance(rec, dict) and isinstance(loc, dict):
        if rec.get("object") == "data_source" or "properties" in rec:
            for name, schema in (rec.get("properties") or {}).items():
                mine = (loc.get("properties") or {}).get(name)
                if isinstance(schema, dict) and isinstance(mine, dict) and "id" in schema and "id" in mine:
                    pids.setdefault(unquote(schema["id"]), mine["id"])
        for k in rec:
            if k.endswith("property_id") and isinstance(rec[k], str) and isinstance(loc.get(k), str):
                pids.setdefault(unquote(rec[k]), loc[k])  # e.g. dual_property.synced_property_id
            if k in loc:
                _learn(rec[k], loc[k], ids, pids)
    elif isinstance(rec, list) and isinstance(loc, list):
        for a, b in zip(rec, loc):
            _learn(a, b, ids, pids)
    elif isinstance(rec, str) and isinstance(loc, str) and UUID.fullmatch(rec) and UUID.fullmatch(loc):
        ids.setdefault(_norm(rec), loc)


def _subst_ids(text: str, ids: dict) -> tuple[str, bool]:
    unknown = False

    def repl(m):
        nonlocal unknown
        if _norm(m.group(0)) not in ids:
            unknown = True
            return m.group(0)
        return ids[_norm(m.group(0))]

    return UUID.sub(repl, text), unknown


def _subst_props(body, pids: dict):
    """Property ids used as keys of ``properties`` (and in URLs) → local ids."""
    if isinstance(body, dict):
        out = {}
        for k, v in body.items():
            if k == "properties" and isinstance(v, dict):
                v = {pids.get(unquote(pk), pk): _subst_props(pv, pids) for pk, pv in v.items()}
            elif k in ("property", "relation_property_id", "rollup_property_id") and isinstance(v, str):
                v = pids.get(unquote(v), v)
            else:
                v = _subst_props(v, pids)
            out[k] = v
        return out
    if isinstance(body, list):
        return [_subst_props(v, pids) for v in body]
    return body


def _shape_problems(rec, loc, where: str) -> list[str]:
    problems = []
    if not isinstance(rec, dict):
        return problems if _jtype(rec) == _jtype(loc) else [f"{where}: {_jtype(rec)} != {_jtype(loc)}"]
    if not isinstance(loc, dict):
        return [f"{where}: expected an object"]
    for k, v in rec.items():
        if k not in loc:
            problems.append(f"{where}.{k} missing")
        elif _jtype(v) != _jtype(loc[k]):
            problems.append(f"{where}.{k}: {_jtype(v)} != {_jtype(loc[k])}")
    return problems


def _compare(rec, loc, ids: dict) -> list[str]:
    problems = _shape_problems(rec, loc, "")
    objs = [(rec, loc)]
    if isinstance(rec, dict) and rec.get("object") == "list" and isinstance(loc, dict):
        # unsorted queries have no guaranteed order (NOTION-API.md §1.3): pair results by mapped id
        mine = {r.get("id"): r for r in loc.get("results") or [] if isinstance(r, dict)}
        for i, r in enumerate(rec.get("results") or []):
            other = mine.get(ids.get(_norm(str(r.get("id", ""))))) if isinstance(r, dict) else None
            if other is None and i < len(loc.get("results") or []):
                other = loc["results"][i]
            objs.append((r, other))
    for r, l in objs:
        if not isinstance(r, dict) or not isinstance(l, dict):
            continue
        for name, value in (r.get("properties") or {}).items():
            mine = (l.get("properties") or {}).get(name)
            if mine is None:
                problems.append(f"properties.{name} missing")
            else:
                problems += _shape_problems(value, mine, f"properties.{name}")
    return problems


def _replay(path: Path, tmp: Path) -> tuple[int, int, list[str]]:
    http = httpx.Client(transport=httpx.WSGITransport(app=LocalNotion(tmp)), base_url="http://local.notion")
    root = http.post("/v1/search", headers=HEADERS,
                     json={"filter": {"property": "object", "value": "page"}}).json()["results"][0]["id"]
    ids = {_norm(r): root for r in RECORDED_ROOTS}
    pids: dict[str, str] = {}
    passed = replayed = 0
    failures = []
    for n, it in enumerate(load_cassette(path)):
        rq, rs = it["request"], it["response"]
        uri = re.sub(r"^https://api\.notion\.com", "", rq["uri"])
        route = uri.split("?")[0]
        if not KEEP.match(route) or any(s in route for s in SKIP_PATHS):
            continue
        if route.endswith("/children") and rq["method"] != "GET":
            continue  # appending blocks is not implemented: pages hold no content locally
        body = rq.get("body")
        body = body.get("string") if isinstance(body, dict) else body
        body = body.decode() if isinstance(body, bytes) else body
        status = rs.get("status_code") or (rs.get("status") or {}).get("code")
        rec = json.loads(rs.get("content") or (rs.get("body") or {}).get("string") or "null")
        uri, unknown_uri = _subst_ids(uri, ids)
        if "/properties/" in uri:
            head, _, pid = uri.partition("/properties/")
            pid, _, query = pid.partition("?")
            uri = f"{head}/properties/{quote(unquote(pids.get(unquote(pid), pid)), safe='~_')}" + (f"?{query}" if query else "")
        unknown_body = False
        if body:
            body, unknown_body = _subst_ids(body, ids)
            body = json.dumps(_subst_props(json.loads(body), pids))
        held = {"child_page", "child_database"}
        if route.endswith("/children") and any(r.get("type") not in held for r in (rec or {}).get("results", [])):
            TOTALS["skipped"] += 1  # lists content blocks (paragraphs): pages hold no content locally
            continue
        if (unknown_uri or unknown_body) and status < 300:
            TOTALS["skipped"] += 1  # refers to a recorded object the replay never created (see module doc)
            continue
        replayed += 1
        res = http.request(rq["method"], uri, content=body.encode() if body else None, headers=HEADERS)
        loc = res.json()
        problems = [] if res.status_code == status else [f"status {res.status_code} != {status}: {loc.get('message')}"]
        if not problems and status < 300:
            _learn(rec, loc, ids, pids)
            problems = _compare(rec, loc, ids)
        if problems:
            failures.append(f"#{n} {rq['method']} {route}: {problems[:5]}")
        else:
            passed += 1
    http.close()
    return passed, replayed, failures


@pytest.mark.parametrize("cassette", CASSETTES, ids=lambda p: str(p.relative_to(RECORDINGS)))
def test_replay_matches_recorded_shapes(cassette: Path, tmp_path: Path):
    passed, replayed, failures = _replay(cassette, tmp_path)
    TOTALS["passed"] += passed
    TOTALS["replayed"] += replayed
    print(f"{cassette.name}: {passed}/{replayed} interactions as recorded; totals {TOTALS}")
    assert not failures, "\n".join(failures)


def test_recordings_present():
    if not CASSETTES:
        pytest.skip(f"no recorded Notion traffic at {RECORDINGS} (the repo is expected next to shared/)")
