"""The cassettes of the contract tests: where they live, how vcrpy records and replays them, and
how a test reads one back as data.

Replay matches a request on method, path, query and JSON body (`json_body`: parsed, so key order
and spacing do not matter). The body matters because the flows send several requests to one path
(page writes run a few at a time, in no fixed order; every read queries the same data source):
the body tells which recorded answer belongs to which request. The one part of a body that
depends on the clock, the `last_edited_time.on_or_after` bound of an incremental read
(`plan --since last`, rows.py), is compared as "present" only.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import vcr
import yaml
from deepdiff import DeepDiff

from .scrub import REAL_HOST, Scrubber

REPO = Path(__file__).resolve().parents[2]
#: Where the cassettes are; `RECONCILER_CASSETTES` points a run elsewhere (the test of the
#: recording mode records into a scratch folder, never over the committed cassettes).
CASSETTES = Path(os.environ.get("RECONCILER_CASSETTES") or REPO / "tests" / "cassettes")
MATCH_ON = ("method", "path", "query", "json_body")
SINCE = "<since>"


def recordings_dir() -> Path:
    """The real recorded Notion sessions, vendored in `tests/recordings/` (a byte-for-byte copy of
    shared/notion-recordings; see its README)."""
    return REPO / "tests" / "recordings"


def canonical_body(body: bytes | str | None) -> Any:
    """A request body as compared by replay: parsed JSON (None when empty), with the clock-made
    bound of an incremental read replaced by `SINCE`."""
    if not body:
        return None
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return _mask_since(data)


def _mask_since(obj: Any) -> Any:
    if isinstance(obj, dict):
        out = {k: _mask_since(v) for k, v in obj.items()}
        if obj.get("timestamp") == "last_edited_time" and isinstance(out.get("last_edited_time"), dict) \
                and "on_or_after" in out["last_edited_time"]:
            out["last_edited_time"] = {**out["last_edited_time"], "on_or_after": SINCE}
        return out
    if isinstance(obj, list):
        return [_mask_since(v) for v in obj]
    return obj


#: One DeepDiff at a time: the apply's worker threads call this matcher concurrently, and
#: DeepDiff builds its paths with `ast.literal_eval`, whose AST construction is not thread-safe
#: on CPython 3.11 ("SystemError: AST constructor recursion depth mismatch", python/cpython
#: gh-106905): seen failing a flow here once in a few runs.
_ONE_DEEPDIFF = threading.Lock()


def json_body(r1, r2) -> None:
    """vcrpy matcher: the two requests carry the same JSON body (see `canonical_body`). Raises
    AssertionError when they differ, as vcrpy's own matchers do, saying where (deepdiff; vcrpy
    prints it under the closest recorded requests)."""
    sent, recorded = canonical_body(r1.body), canonical_body(r2.body)
    if sent != recorded:
        with _ONE_DEEPDIFF:
            lines = DeepDiff(recorded, sent, verbose_level=2).pretty().splitlines()
        raise AssertionError("\n".join(lines[:8] + ([f"… {len(lines) - 8} more"] if len(lines) > 8 else [])))


def make_vcr(scrubber: Scrubber, *, record: bool) -> vcr.VCR:
    """A VCR that records every request (`record=True`; the caller removes the old cassette
    first, as vcrpy keeps old interactions no new one replaces) or replays only (`record_mode
    "none"`: a request the cassette lacks raises `CannotOverwriteExistingCassetteException`),
    filtered by `scrubber`, matching on `MATCH_ON`."""
    recorder = vcr.VCR(record_mode="all" if record else "none", match_on=MATCH_ON,
                       before_record_request=scrubber.request,
                       before_record_response=scrubber.response,
                       decode_compressed_response=True)
    recorder.register_matcher("json_body", json_body)
    return recorder


@dataclass(frozen=True)
class Interaction:
    """One recorded request and its answer, parsed."""

    index: int
    method: str
    uri: str
    request: Any  # JSON body or None
    status: int
    response: Any  # JSON body or None

    @property
    def path(self) -> str:
        parts = urlsplit(self.uri)
        return parts.path + (f"?{parts.query}" if parts.query else "")


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("string")
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return value


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def load(path: Path) -> list[Interaction]:
    """The interactions of a vcrpy YAML cassette, in either body layout the recordings use
    (`response.body.string` + `status.code`, or `response.content` + `status_code`)."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out = []
    for index, item in enumerate(data["interactions"]):
        rq, rs = item["request"], item["response"]
        status = rs.get("status_code") or (rs.get("status") or {}).get("code")
        body = rs["content"] if "content" in rs else rs.get("body")
        out.append(Interaction(index, rq["method"], rq["uri"], _json(_text(rq.get("body"))), int(status),
                               _json(_text(body))))
    return out


def origin(interactions: list[Interaction]) -> str:
    """`Notion` when the cassette was recorded against api.notion.com, else `local serve`."""
    hosts = {urlsplit(i.uri).hostname for i in interactions}
    return "Notion" if hosts == {REAL_HOST} else "local serve"
