"""`GET /v1/users` and `GET /v1/users/{id}` on the local Notion, through the real notion-client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from notion_client import APIResponseError

from reconciler.local import local_client
from reconciler.local.store import SEED_PEOPLE, Store


def test_users_list_has_the_seeded_people_and_the_bot_in_notions_shape(tmp_path: Path):
    client = local_client(tmp_path)
    page = client.users.list()
    assert {k: page[k] for k in ("object", "type", "user", "has_more", "next_cursor")} == {
        "object": "list", "type": "user", "user": {}, "has_more": False, "next_cursor": None}
    people = [u for u in page["results"] if u["type"] == "person"]
    assert sorted(u["person"]["email"] for u in people) == sorted(e for _, e in SEED_PEOPLE)
    assert all(set(u) == {"object", "id", "name", "avatar_url", "type", "person"} for u in people)
    assert [u["type"] for u in page["results"]].count("bot") == 1
    ada = next(u for u in people if u["person"]["email"] == "ada@example.com")
    assert client.users.retrieve(ada["id"])["name"] == "Ada Lovelace"


def test_users_list_paginates(tmp_path: Path):
    client = local_client(tmp_path)
    seen, cursor = [], None
    while True:
        page = client.users.list(page_size=1, **({"start_cursor": cursor} if cursor else {}))
        assert len(page["results"]) == 1
        seen += [u["id"] for u in page["results"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert len(seen) == len(set(seen)) == len(SEED_PEOPLE) + 1


def test_unknown_user_is_object_not_found(tmp_path: Path):
    with pytest.raises(APIResponseError) as info:
        local_client(tmp_path).users.retrieve("00000000-0000-4000-8000-000000000000")
    assert info.value.code == "object_not_found"


def test_a_workspace_saved_before_people_existed_loads_and_gains_them(tmp_path: Path):
    bot = {"object": "user", "id": "6f1c1c8e-0000-4000-8000-000000000001", "name": "Reconciler (local)",
           "avatar_url": None, "type": "bot", "bot": {}}
    legacy = {"workspace_id": "6f1c1c8e-0000-4000-8000-000000000002", "bot_id": bot["id"],
              "users": {bot["id"]: bot}, "databases": {}, "data_sources": {}, "pages": {}, "seq": 1}
    (tmp_path / "workspace.json").write_text(json.dumps(legacy))
    store = Store(tmp_path)
    with store.transaction():
        emails = {(u.get("person") or {}).get("email") for u in store.users()}
    assert emails >= {e for _, e in SEED_PEOPLE}
    # same ids as a fresh workspace: content resolved on one plans the same on the other
    assert {u["id"] for u in local_client(tmp_path).users.list()["results"] if u["type"] == "person"} == \
        {u["id"] for u in local_client(tmp_path / "new").users.list()["results"] if u["type"] == "person"}
