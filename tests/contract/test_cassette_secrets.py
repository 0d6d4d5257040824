"""What a maintainer commits: every cassette is free of credentials and personal data, and the
recording filters (scrub.py) remove them from real Notion answers."""

from __future__ import annotations

import json
import re

import pytest
from vcr.request import Request

from .cassettes import CASSETTES, load, recordings_dir
from .scrub import PARENT_ID, REDACTED, Scrubber, find_secrets

PLACEHOLDER_USER = re.compile(r"00000000-0000-4000-8000-0000000000f[0-9a-f]")
CASSETTE_FILES = sorted(CASSETTES.glob("*.yaml"))


def _users(obj):
    if isinstance(obj, dict):
        if obj.get("object") == "user":
            yield obj
        for value in obj.values():
            yield from _users(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _users(value)


def test_there_are_cassettes_to_scan():
    assert {p.stem for p in CASSETTE_FILES} >= {"schema", "content", "schema_lag"}


@pytest.mark.parametrize("cassette", CASSETTE_FILES, ids=lambda p: p.name)
def test_cassette_holds_no_token_email_or_credential_header(cassette):
    assert find_secrets(cassette.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("cassette", CASSETTE_FILES, ids=lambda p: p.name)
def test_cassette_users_and_workspace_are_placeholders(cassette):
    """Users are named by placeholders only (ids `…0000000000fN`, names `Integration` /
    `Person NN`, no avatar), the workspace is `Workspace`, the scratch page `…000000000001`."""
    text = cassette.read_text(encoding="utf-8")
    for item in load(cassette):
        for body in (item.request, item.response):
            for user in _users(body):
                assert PLACEHOLDER_USER.fullmatch(user["id"]), user
                assert user.get("name", "Integration") in ("Integration", f"Person {user['id'][-2:]}"), user
                assert user.get("avatar_url") is None, user
    names = re.findall(r'\\?"workspace_name\\?":\s*\\?"([^"\\]*)', text)
    assert set(names) <= {"Workspace"}, names
    assert PARENT_ID in text


def _recorded(*relative: str) -> list:
    folder = recordings_dir()
    return [item for rel in relative for item in load(folder / rel)]


def test_scrubber_removes_members_and_workspace_from_real_answers():
    """Real answers naming a workspace member (name, e-mail, avatar), a bot with its workspace and
    an integration (ultimate-notion test_people_relation_query.yaml, ramnes test_users_me.yaml,
    test_build_request_error_integration.yaml: a 404 with `additional_data.integration_id`)."""
    items = _recorded(
        "ultimate-notion__ultimate-notion/tests/cassettes/test_query/test_people_relation_query.yaml",
        "ramnes__notion-sdk-py/tests/cassettes/test_users_me.yaml",
        "ramnes__notion-sdk-py/tests/cassettes/test_build_request_error_integration.yaml")
    bodies = [json.dumps(i.response) for i in items if i.response]
    users = [u for b in bodies for u in _users(json.loads(b))]
    names = {u["name"] for u in users if u.get("name")}
    emails = {u["person"]["email"] for u in users if (u.get("person") or {}).get("email")}
    workspaces = {u["bot"]["workspace_name"] for u in users if (u.get("bot") or {}).get("workspace_name")}
    ids = {u["id"] for u in users if not PLACEHOLDER_USER.fullmatch(u["id"])}  # ultimate-notion's own
    integrations = {i.response["additional_data"]["integration_id"] for i in items
                    if isinstance(i.response, dict) and "additional_data" in i.response}
    assert names and emails and workspaces and ids and integrations  # the inputs hold what must go
    scrubber = Scrubber()
    scrubbed = "\n".join(scrubber.body(b) for b in bodies)
    assert find_secrets(scrubbed) == []
    for secret in names | emails | workspaces | ids | integrations:
        assert secret not in scrubbed and secret.replace("-", "") not in scrubbed, secret
    assert '"name":"Integration"' in scrubbed and '"workspace_name":"Workspace"' in scrubbed


def test_scrubber_filters_requests_and_responses():
    token = "ntn_" + "a1B2" * 12
    parent = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
    scrubber = Scrubber(parent, secrets=[token])
    request = Request("PATCH", f"http://127.0.0.1:8765/v1/pages/{parent}", json.dumps({
        "properties": {"Note": {"rich_text": [{"text": {"content": f"key {token} and secret_{'x' * 43}"}}]},
                       "Link": {"url": f"https://www.notion.so/Scratch-{parent.replace('-', '')}"},
                       "Mail": {"email": "someone@corp.io"}, "Test": {"email": "ada@example.com"}}}),
        {"Authorization": f"Bearer {token}", "Notion-Version": "2025-09-03", "User-Agent": "x",
         "Cookie": "a=b", "Content-Type": "application/json"})
    out = scrubber.request(request)
    assert out.uri == f"http://local.notion/v1/pages/{PARENT_ID}"
    assert dict(out.headers) == {"Notion-Version": "2025-09-03", "Content-Type": "application/json"}
    body = out.body.decode()
    assert token not in body and "secret_x" not in body and body.count(REDACTED) == 2
    assert PARENT_ID.replace("-", "") in body and "corp.io" not in body
    assert "person-1@example.com" in body and "ada@example.com" in body

    file_url = "https://s3.us-west-2.amazonaws.com/f.png?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc123"
    response = {"status": {"code": 200, "message": "OK"},
                "headers": {"Content-Type": ["application/json"], "Set-Cookie": ["__cf_bm=1"],
                            "x-notion-request-id": ["r"]},
                "body": {"string": json.dumps({"object": "page", "cover": {"file": {"url": file_url}}}).encode()}}
    kept = scrubber.response(response)
    assert kept["headers"] == {"Content-Type": ["application/json"]}
    assert b"abc123" not in kept["body"]["string"] and b"AKIA" not in kept["body"]["string"]
    assert scrubber.response({"status": {"code": 429}, "headers": {}, "body": {"string": b"{}"}}) is None


@pytest.mark.parametrize("leak, finding", [
    ("authorization: Bearer abcdefgh12345678", "Bearer"),
    ("string: '{\"x\":\"secret_" + "A" * 43 + "\"}'", "token"),
    ("ntn_" + "9" * 46, "token"),
    ("  set-cookie:\n  - __cf_bm=1", "header set-cookie"),
    ("u=https://s3.amazonaws.com/a?X-Amz-Signature=deadbeef", "AWS"),
    ("\"email\":\"someone@corp.io\"", "e-mail"),
])
def test_the_scan_finds_each_kind_of_leak(leak, finding):
    assert any(finding in f for f in find_secrets(leak)), find_secrets(leak)
    assert find_secrets("\"email\":\"ada@example.com\", authorization-free text") == []
