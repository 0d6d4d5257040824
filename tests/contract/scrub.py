"""What a cassette may hold: the filters applied while recording, and the scan every committed
cassette must pass.

A recording made against a maintainer's workspace sees the integration's token, the workspace's
id and name, the ids, names and e-mail addresses of its members (in `user` objects: the bot that
`created_by` names, people values, `GET /v1/users`), and the id of the scratch page the flows
run under. `Scrubber` replaces them, consistently across one cassette so that replay still
matches, with the placeholders ultimate-notion uses in its public cassettes
(shared/notion-recordings/README.md "Redaction"):

* the scratch parent page → `00000000-0000-4000-8000-000000000001`, the workspace →
  `…0000000000f0`, the integration (`additional_data.integration_id` of a 404) → `…0000000000e0`,
  each user (bot or person) → `…0000000000f1`, `…f2`, … in order of appearance (dashed or bare,
  as found: page URLs carry bare ids);
* a user's `name` → `Integration` (bots) or `Person NN` (the last two digits of its
  placeholder), `avatar_url` → null, a bot's `workspace_name` → `Workspace`, the integration's
  name in an error message → `Integration`;
* every e-mail address outside the RFC 2606 domains (example.com/.org/.net) →
  `person-N@example.com`;
* the token itself, anything shaped like a Notion token (`secret_…`, `ntn_…`) and AWS
  pre-signed URL parameters (`X-Amz-…`, on file URLs) → `REDACTED`;
* request headers: only `Notion-Version` and `Content-Type` are kept (no Authorization, no
  User-Agent); response headers: only `Content-Type` (no cookies, no Cloudflare ids);
* the scheme and host: `https://api.notion.com` stays, any other server (`reconciler local
  serve` on a free port) becomes `http://local.notion`, so a cassette says where it was recorded;
* 429 answers are dropped: Notion did not process the request (NOTION-API.md §4.1) and the
  retry that followed is recorded.

Database, data source, page and property ids of the objects the flows create are kept: they
name nothing outside the scratch page, which each flow trashes when it ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PARENT_ID = "00000000-0000-4000-8000-000000000001"
WORKSPACE_ID = "00000000-0000-4000-8000-0000000000f0"
INTEGRATION_ID = "00000000-0000-4000-8000-0000000000e0"
FIRST_USER = 0xF1
REAL_HOST = "api.notion.com"
LOCAL_ORIGIN = ("http", "local.notion")
KEEP_REQUEST_HEADERS = ("notion-version", "content-type")
KEEP_RESPONSE_HEADERS = ("content-type",)
REDACTED = "REDACTED"
SAFE_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

UUID = re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"
                  r"(?![0-9a-fA-F])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}")
TOKEN = re.compile(r"\b(?:secret|ntn)_[A-Za-z0-9]{20,}")
BEARER = re.compile(r"Bearer\s+(?!REDACTED\b)[A-Za-z0-9._~+/=-]{8,}")
AWS_PARAM = re.compile(r"(X-Amz-[A-Za-z-]+)=[^&\"'\s]*")
#: a 404's message names the integration: '… shared with your integration "my-bot".'
INTEGRATION_NAME = re.compile(r'(integration ")[^"]*(")')


def bare(uuid: str) -> str:
    return uuid.replace("-", "").lower()


def _dashed(bare_id: str) -> str:
    b = bare_id
    return f"{b[:8]}-{b[8:12]}-{b[12:16]}-{b[16:20]}-{b[20:]}"


def safe_email(address: str) -> bool:
    """True for addresses in the RFC 2606 example domains (test data, placeholders)."""
    return address.lower().rsplit("@", 1)[-1] in SAFE_EMAIL_DOMAINS


class Scrubber:
    """The filters of one cassette (vcrpy `before_record_request` / `before_record_response`).

    `parent_page_id`: the scratch page the flows run under (→ `PARENT_ID`); `secrets`: literal
    strings never to be written (the token). `learn(obj)` registers the users and workspace of a
    response body (call it with `GET /v1/users/me` before recording, so the bot and workspace are
    known before the first request names them). Used in replay too, where it finds nothing to
    replace: requests are filtered before they are matched.
    """

    def __init__(self, parent_page_id: str | None = None, secrets: Iterable[str] = ()):
        self.ids: dict[str, str] = {}  # bare real id → bare placeholder
        self.emails: dict[str, str] = {}
        self.secrets = [s for s in secrets if s]
        self._users = 0
        if parent_page_id:
            self.ids[bare(parent_page_id)] = bare(PARENT_ID)

    # --- learning ------------------------------------------------------------------------------
    def learn(self, obj: Any) -> None:
        """Register every user id, workspace id and integration id inside `obj` (a JSON value)."""
        if isinstance(obj, dict):
            if obj.get("object") == "user" and isinstance(obj.get("id"), str):
                key = bare(obj["id"])
                if key not in self.ids and key not in self.ids.values():
                    self.ids[key] = bare(f"00000000-0000-4000-8000-{FIRST_USER + self._users:012x}")
                    self._users += 1
            for key, placeholder in (("workspace_id", WORKSPACE_ID), ("integration_id", INTEGRATION_ID)):
                found = obj.get(key)
                if isinstance(found, str) and UUID.fullmatch(found):
                    self.ids.setdefault(bare(found), bare(placeholder))
            for value in obj.values():
                self.learn(value)
        elif isinstance(obj, list):
            for value in obj:
                self.learn(value)

    # --- replacing -----------------------------------------------------------------------------
    def text(self, text: str) -> str:
        """`text` with secrets, tokens, known ids, e-mails and AWS signatures replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = TOKEN.sub(REDACTED, text)
        text = BEARER.sub("Bearer " + REDACTED, text)
        text = AWS_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
        text = INTEGRATION_NAME.sub(r"\1Integration\2", text)
        text = UUID.sub(self._id, text)
        return EMAIL.sub(self._email, text)

    def _id(self, match: re.Match) -> str:
        found = match.group(0)
        placeholder = self.ids.get(bare(found))
        if placeholder is None:
            return found
        return _dashed(placeholder) if "-" in found else placeholder

    def _email(self, match: re.Match) -> str:
        address = match.group(0)
        if safe_email(address):
            return address
        key = address.lower()
        if key not in self.emails:
            self.emails[key] = f"person-{len(self.emails) + 1}@example.com"
        return self.emails[key]

    def value(self, obj: Any) -> Any:
        """A JSON value with every string scrubbed and user objects anonymised."""
        if isinstance(obj, dict):
            out = {self.text(k): self.value(v) for k, v in obj.items()}
            if obj.get("object") == "user":
                kind = obj.get("type")
                if "name" in out:
                    out["name"] = "Integration" if kind == "bot" else \
                        f"Person {str(out.get('id', ''))[-2:]}"
                if "avatar_url" in out:
                    out["avatar_url"] = None
            if "workspace_name" in out:
                out["workspace_name"] = "Workspace"
            return out
        if isinstance(obj, list):
            return [self.value(v) for v in obj]
        if isinstance(obj, str):
            return self.text(obj)
        return obj

    def body(self, raw: bytes | str | None) -> bytes | str | None:
        """A request or response body: JSON is parsed, learned from and scrubbed; other text is
        scrubbed as text."""
        if not raw:
            return raw
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        try:
            data = json.loads(text)
        except ValueError:
            out = self.text(text)
        else:
            self.learn(data)
            out = json.dumps(self.value(data), ensure_ascii=False, separators=(",", ":"))
        return out.encode("utf-8") if isinstance(raw, bytes) else out

    # --- vcrpy hooks ---------------------------------------------------------------------------
    def request(self, request):
        """vcrpy `before_record_request`: origin normalised, headers and body scrubbed."""
        parts = urlsplit(request.uri)
        if parts.hostname != REAL_HOST:
            parts = parts._replace(scheme=LOCAL_ORIGIN[0], netloc=LOCAL_ORIGIN[1])
        request.uri = self.text(urlunsplit(parts))
        request.headers = {k: v for k, v in request.headers.items()
                           if k.lower() in KEEP_REQUEST_HEADERS}
        request.body = self.body(request.body)
        return request

    def response(self, response: dict) -> dict | None:
        """vcrpy `before_record_response`: 429s dropped, headers and body scrubbed."""
        if response["status"]["code"] == 429:
            return None
        response["headers"] = {k: v for k, v in response["headers"].items()
                               if k.lower() in KEEP_RESPONSE_HEADERS}
        response["body"]["string"] = self.body(response["body"]["string"])
        return response


def find_secrets(text: str) -> list[str]:
    """What must never be in a committed cassette, found in `text` (a cassette file): tokens,
    Bearer credentials, AWS signatures, e-mail addresses outside the example domains, headers
    that carry credentials or cookies. Each finding names its kind and line; none repeats what
    it found, except an e-mail address."""
    def line(match: re.Match) -> int:
        return text.count("\n", 0, match.start()) + 1

    found = [f"line {line(m)}: token-shaped string" for m in TOKEN.finditer(text)]
    found += [f"line {line(m)}: Bearer credential" for m in BEARER.finditer(text)]
    found += [f"line {line(m)}: AWS signature parameter {m.group(1)}" for m in AWS_PARAM.finditer(text)
              if not m.group(0).endswith("=" + REDACTED)]
    found += [f"line {line(m)}: e-mail address {m.group(0)}" for m in EMAIL.finditer(text)
              if not safe_email(m.group(0))]
    found += [f"line {line(m)}: header {m.group(1)}" for m in re.finditer(
        r"^\s*['\"]?(authorization|cookie|set-cookie|x-api-key)['\"]?\s*:", text,
        flags=re.IGNORECASE | re.MULTILINE)]
    return found
