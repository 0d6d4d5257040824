"""The local Notion through the real notion-client (in process and over HTTP)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from notion_client import APIResponseError, Client

from reconciler.local import local_client, make_server, root_page_id


def text(s: str) -> list[dict]:
    """A request rich text array."""
    return [{"type": "text", "text": {"content": s}}]

ALL_TYPES = {
    "Name": {"title": {}},
    "Text": {"rich_text": {}},
    "Number": {"number": {"format": "dollar"}},
    "Select": {"select": {"options": [{"name": "Option1"}, {"name": "Option2", "color": "red"}]}},
    "Multi": {"multi_select": {"options": [{"name": "A"}, {"name": "B", "color": "blue"}]}},
    "Status": {"status": {}},
    "Date": {"date": {}},
    "People": {"people": {}},
    "Files": {"files": {}},
    "Checkbox": {"checkbox": {}},
    "URL": {"url": {}},
    "Email": {"email": {}},
    "Phone": {"phone_number": {}},
    "Formula": {"formula": {"expression": 'prop("Number") * 2'}},
    "Created time": {"created_time": {}},
    "Created by": {"created_by": {}},
    "Last edited time": {"last_edited_time": {}},
    "Last edited by": {"last_edited_by": {}},
    "ID": {"unique_id": {"prefix": "TASK"}},
    "Place": {"place": {}},
}


def make_db(notion: Client, root: str, title: str = "Tasks", props: dict | None = None) -> tuple[dict, str]:
    db = notion.databases.create(parent={"type": "page_id", "page_id": root}, title=text(title),
                                 initial_data_source={"properties": props or {"Name": {"title": {}}}})
    return db, db["data_sources"][0]["id"]


def error_of(fn, *args, **kwargs) -> APIResponseError:
    with pytest.raises(APIResponseError) as info:
        fn(*args, **kwargs)
    return info.value


def test_users_me_and_root_page(notion, root):
    me = notion.users.me()
    assert me["type"] == "bot" and me["request_id"]
    page = notion.pages.retrieve(root)
    assert page["parent"] == {"type": "workspace", "workspace": True}
    assert page["properties"]["title"]["title"][0]["plain_text"] == "Reconciler workspace"


def test_database_with_every_creatable_type(notion, root):
    db, ds_id = make_db(notion, root, props=ALL_TYPES)
    assert db["object"] == "database" and "properties" not in db
    assert db["created_time"].endswith("+00:00") and "." in db["created_time"]
    ds = notion.data_sources.retrieve(ds_id)
    props = ds["properties"]
    assert set(props) == set(ALL_TYPES)
    assert props["Name"]["id"] == "title"
    assert list(props)[-1] == "Name"
    assert ds["created_time"].endswith(":00.000Z")
    assert props["Number"]["number"] == {"format": "dollar"}
    assert [o["name"] for o in props["Select"]["select"]["options"]] == ["Option1", "Option2"]
    assert [o["name"] for o in props["Status"]["status"]["options"]] == ["Not started", "In progress", "Done"]
    assert [g["name"] for g in props["Status"]["status"]["groups"]] == ["To-do", "In progress", "Complete"]
    assert props["ID"]["unique_id"] == {"prefix": "TASK"}
    ws = notion.users.me()["bot"]["workspace_id"]
    assert props["Formula"]["formula"]["expression"] == (
        f"{{{{notion:block_property:{props['Number']['id']}:{ds_id}:{ws}}}}} * 2")
    for name, schema in props.items():
        assert set(schema) == {"id", "name", "description", "type", schema["type"]}, name


def test_schema_add_rename_delete_and_options(notion, root):
    _, ds_id = make_db(notion, root, props={"Name": {"title": {}}, "Sel": {"select": {"options": [{"name": "a"}]}}})
    ds = notion.data_sources.update(ds_id, properties={"Extra": {"type": "number", "number": {}}})
    extra_id = ds["properties"]["Extra"]["id"]
    ds = notion.data_sources.update(ds_id, properties={extra_id: {"name": "Renamed"}})
    assert ds["properties"]["Renamed"]["id"] == extra_id and "Extra" not in ds["properties"]
    ds = notion.data_sources.update(ds_id, properties={"Renamed": {"number": {"format": "percent"}}})
    assert ds["properties"]["Renamed"] == {"id": extra_id, "name": "Renamed", "description": None,
                                           "type": "number", "number": {"format": "percent"}}
    # option add keeps ids of re-sent options; replace-all drops the unsent
    old = ds["properties"]["Sel"]["select"]["options"][0]
    ds = notion.data_sources.update(ds_id, properties={"Sel": {"select": {"options": [old, {"name": "b"}]}}})
    opts = ds["properties"]["Sel"]["select"]["options"]
    assert opts[0]["id"] == old["id"] and [o["name"] for o in opts] == ["a", "b"]
    # a rename sent with the id is accepted and changes nothing
    ds = notion.data_sources.update(ds_id, properties={"Sel": {"select": {"options": [
        dict(opts[0], name="zzz"), opts[1]]}}})
    assert [o["name"] for o in ds["properties"]["Sel"]["select"]["options"]] == ["a", "b"]
    err = error_of(notion.data_sources.update, ds_id, properties={"Sel": {"select": {"options": [
        dict(opts[0], color="red"), opts[1]]}}})
    assert err.status == 400 and err.code == "validation_error"
    err = error_of(notion.data_sources.update, ds_id, properties={"Sel": {"select": {"options": [{"name": "x,y"}]}}})
    assert err.code == "validation_error" and "commas" in str(err)
    # title rules
    assert error_of(notion.data_sources.update, ds_id, properties={"Name": {"rich_text": {}}}).status == 400
    assert error_of(notion.data_sources.update, ds_id, properties={"Name": None}).status == 400
    assert error_of(notion.data_sources.update, ds_id, properties={"Renamed": {"name": "Sel"}}).status == 400
    ds = notion.data_sources.update(ds_id, properties={"Renamed": None})
    assert "Renamed" not in ds["properties"]
    # a failed PATCH changes nothing
    assert "Renamed" not in notion.data_sources.retrieve(ds_id)["properties"]


def test_two_way_relation_creates_synced_property(notion, root):
    _, a = make_db(notion, root, "Schema A")
    _, b = make_db(notion, root, "Schema B")
    ds = notion.data_sources.update(b, properties={"Link": {"relation": {
        "type": "dual_property", "data_source_id": a, "dual_property": {}}}})
    link = ds["properties"]["Link"]
    other = notion.data_sources.retrieve(a)["properties"]
    synced = other["Related to Schema B (Link)"]
    assert link["relation"]["dual_property"] == {"synced_property_name": "Related to Schema B (Link)",
                                                 "synced_property_id": synced["id"]}
    assert synced["relation"]["dual_property"] == {"synced_property_name": "Link", "synced_property_id": link["id"]}
    target = notion.pages.create(parent={"data_source_id": a}, properties={"Name": {"title": text("t")}})
    src = notion.pages.create(parent={"data_source_id": b},
                              properties={"Name": {"title": text("s")}, "Link": {"relation": [{"id": target["id"]}]}})
    back = notion.pages.retrieve(target["id"])["properties"]["Related to Schema B (Link)"]
    assert back["relation"] == [{"id": src["id"]}]


def test_pages_values_update_trash(notion, root):
    _, ds_id = make_db(notion, root, props=ALL_TYPES)
    page = notion.pages.create(parent={"data_source_id": ds_id}, properties={
        "Name": {"title": text("Row")}, "Number": {"number": 3}, "Select": {"select": {"name": "New one"}},
        "Multi": {"multi_select": [{"name": "A"}, {"name": "C"}]}, "Checkbox": {"checkbox": True},
        "Date": {"date": {"start": "2026-01-02"}}, "URL": {"url": "https://x.example"}})
    p = page["properties"]
    assert page["created_time"].endswith(":00.000Z") and page["request_id"]
    assert p["Select"]["select"]["name"] == "New one"
    assert p["Status"]["status"]["name"] == "Not started"
    assert p["ID"]["unique_id"] == {"prefix": "TASK", "number": 1}
    assert p["Created by"]["created_by"]["type"] == "bot"
    assert p["Formula"]["formula"]["type"] in ("string", "number")
    schema = notion.data_sources.retrieve(ds_id)["properties"]
    assert "New one" in [o["name"] for o in schema["Select"]["select"]["options"]]
    assert "C" in [o["name"] for o in schema["Multi"]["multi_select"]["options"]]
    upd = notion.pages.update(page["id"], properties={schema["Number"]["id"]: {"number": 4}})
    assert upd["properties"]["Number"]["number"] == 4 and upd["properties"]["Checkbox"]["checkbox"] is True
    assert error_of(notion.pages.update, page["id"], properties={"Formula": {"formula": {}}}).status == 400
    assert error_of(notion.pages.update, page["id"], properties={"Nope": {"number": 1}}).code == "validation_error"
    long = error_of(notion.pages.update, page["id"], properties={"Text": {"rich_text": text("x" * 2001)}})
    assert "should be ≤ `2000`, instead was `2001`" in str(long)
    comma = error_of(notion.pages.update, page["id"], properties={"Select": {"select": {"name": "a,b"}}})
    assert comma.status == 400
    assert notion.pages.update(page["id"], in_trash=True)["in_trash"] is True
    assert notion.data_sources.query(ds_id)["results"] == []
    assert notion.pages.update(page["id"], archived=False)["archived"] is False
    assert len(notion.data_sources.query(ds_id)["results"]) == 1
    block = notion.blocks.delete(page["id"])
    assert block["type"] == "child_page" and block["in_trash"] is True


def test_query_filters_sorts_and_pagination(notion, root):
    _, ds_id = make_db(notion, root, props={"Name": {"title": {}}, "N": {"number": {}}, "Done": {"checkbox": {}}})
    for i in range(150):
        notion.pages.create(parent={"data_source_id": ds_id}, properties={
            "Name": {"title": text(f"Item {i}")}, "N": {"number": i}, "Done": {"checkbox": i % 2 == 0}})
    first = notion.data_sources.query(ds_id, sorts=[{"property": "N", "direction": "descending"}])
    assert len(first["results"]) == 100 and first["has_more"] and first["next_cursor"]
    assert first["type"] == "page_or_data_source" and first["page_or_data_source"] == {}
    second = notion.data_sources.query(ds_id, sorts=[{"property": "N", "direction": "descending"}],
                                       start_cursor=first["next_cursor"])
    assert len(second["results"]) == 50 and not second["has_more"] and second["next_cursor"] is None
    assert second["results"][-1]["properties"]["N"]["number"] == 0
    res = notion.data_sources.query(ds_id, filter={"and": [
        {"property": "N", "number": {"greater_than_or_equal_to": 10}},
        {"or": [{"property": "Done", "checkbox": {"equals": True}},
                {"property": "Name", "title": {"ends_with": "11"}}]}]}, page_size=5)
    assert [r["properties"]["N"]["number"] for r in res["results"]] == [10, 11, 12, 14, 16]
    res = notion.data_sources.query(ds_id, filter={"timestamp": "created_time", "created_time": {"is_not_empty": True}},
                                    filter_properties=["N"], page_size=1)
    assert list(res["results"][0]["properties"]) == ["N"]
    assert error_of(notion.data_sources.query, ds_id, page_size=101).code == "validation_error"
    assert error_of(notion.data_sources.query, ds_id, filter={"property": "Zz", "number": {"equals": 1}}).status == 400
    assert error_of(notion.data_sources.query, ds_id, sorts=[{"property": "Zz", "direction": "ascending"}]).status == 400


def test_relation_truncated_to_25_and_full_via_property_item(notion, root):
    _, a = make_db(notion, root, "Targets")
    _, b = make_db(notion, root, "Sources")
    ds = notion.data_sources.update(b, properties={"Rel": {"relation": {"data_source_id": a, "single_property": {}}},
                                                   "Count": {"rollup": {"function": "count",
                                                                        "relation_property_name": "Rel",
                                                                        "rollup_property_name": "Name"}}})
    targets = [notion.pages.create(parent={"data_source_id": a}, properties={"Name": {"title": text(str(i))}})["id"]
               for i in range(30)]
    page = notion.pages.create(parent={"data_source_id": b}, properties={"Rel": {"relation": [{"id": t} for t in targets]}})
    rel = page["properties"]["Rel"]
    assert len(rel["relation"]) == 25 and rel["has_more"] is True
    assert page["properties"]["Count"]["rollup"] == {"type": "number", "number": 30, "function": "count"}
    item = notion.pages.properties.retrieve(page["id"], ds["properties"]["Rel"]["id"])
    assert item["object"] == "list" and [r["relation"]["id"] for r in item["results"]] == targets
    small = notion.pages.properties.retrieve(page["id"], ds["properties"]["Rel"]["id"], page_size=20)
    assert small["has_more"] and len(small["results"]) == 20
    rest = notion.pages.properties.retrieve(page["id"], ds["properties"]["Rel"]["id"], start_cursor=small["next_cursor"])
    assert len(rest["results"]) == 10
    too_many = error_of(notion.pages.update, page["id"], properties={"Rel": {"relation": [{"id": targets[0]}] * 101}})
    assert too_many.code == "validation_error"


def test_errors(notion, root, tmp_path):
    missing = "5f3c1e2a-1111-4222-8333-444455556666"
    err = error_of(notion.databases.retrieve, missing)
    assert err.status == 404 and err.code == "object_not_found"
    assert f"Could not find database with ID: {missing}." in str(err)
    assert error_of(notion.pages.retrieve, "12345678-1234-1234-1234-123456789abc").code == "validation_error"
    assert notion.pages.retrieve(root.replace("-", ""))["id"] == root
    bad = error_of(notion.request, path="nope", method="GET")
    assert bad.code == "invalid_request_url"


def test_raw_errors_without_token_or_version(tmp_path):
    import httpx

    from reconciler.local import LocalNotion

    http = httpx.Client(transport=httpx.WSGITransport(app=LocalNotion(tmp_path)), base_url="http://x")
    r = http.get("/v1/users/me", headers={"Notion-Version": "2025-09-03"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized" and r.headers["x-notion-request-id"]
    r = http.get("/v1/users/me", headers={"Authorization": "Bearer t"})
    assert r.status_code == 400 and r.json()["code"] == "missing_version"
    r = http.post("/v1/search", content=b"{nope", headers={"Authorization": "Bearer t", "Notion-Version": "2025-09-03"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_json"
    stored = b"".join(f.read_bytes() for f in tmp_path.iterdir() if f.is_file())
    assert b"Bearer t" not in stored and stored


def test_persistence_across_clients(tmp_path):
    first = local_client(tmp_path)
    root = root_page_id(first)
    _, ds_id = make_db(first, root, "Kept")
    first.close()
    second = local_client(tmp_path)
    assert root_page_id(second) == root
    assert second.data_sources.retrieve(ds_id)["title"][0]["plain_text"] == "Kept"
    found = second.search(query="kept", filter={"property": "object", "value": "data_source"})
    assert [r["id"] for r in found["results"]] == [ds_id]
    second.close()


def test_over_real_http(tmp_path):
    server = make_server(tmp_path, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = Client(auth="anything", base_url=f"http://127.0.0.1:{server.server_port}", retry=False)
        root = root_page_id(client)
        _, ds_id = make_db(client, root, "Over HTTP", {"Name": {"title": {}}, "Tag": {"select": {}}})
        page = client.pages.create(parent={"data_source_id": ds_id},
                                   properties={"Name": {"title": text("r")}, "Tag": {"select": {"name": "x"}}})
        assert client.pages.retrieve(page["id"])["properties"]["Tag"]["select"]["name"] == "x"
        with pytest.raises(APIResponseError):
            client.data_sources.query(ds_id, page_size=101)
        client.close()
    finally:
        server.shutdown()
        thread.join(5)


def test_a_page_moves_under_another_page(notion, root):
    """``POST /v1/pages/{id}/move`` answers the page with its new parent (REC:RA/test_move_pages.yaml #3)."""
    new = lambda title, parent: notion.pages.create(parent={"page_id": parent},  # noqa: E731
                                                    properties={"title": {"title": text(title)}})["id"]
    target, moving = new("Target Parent", root), new("Moving Page", root)
    moved = notion.request(path=f"pages/{moving}/move", method="POST", body={"parent": {"page_id": target}})
    assert moved["parent"] == {"type": "page_id", "page_id": target}
    assert [b["id"] for b in notion.blocks.children.list(target)["results"]] == [moving]
    loop = error_of(notion.request, path=f"pages/{target}/move", method="POST", body={"parent": {"page_id": moving}})
    assert loop.code == "validation_error"


@pytest.mark.parametrize("expression", ["(" * 5000 + "1" + ")" * 5000, "10 ^ 10 ^ 10", 'prop("Nope") + 1',
                                        "1 +", 'unknown(prop("Name"))'])
def test_a_formula_that_cannot_be_evaluated_reads_as_a_typed_null(notion, root, expression):
    _, ds = make_db(notion, root, props={"Name": {"title": {}}})
    notion.data_sources.update(ds, properties={"F": {"formula": {"expression": 'prop("Name")'}}})
    store_expression = {"formula": {"expression": expression.replace('prop("Nope")', "nope")}}
    notion.data_sources.update(ds, properties={"F": store_expression})
    page = notion.pages.create(parent={"data_source_id": ds}, properties={"Name": {"title": text("r")}})
    value = page["properties"]["F"]["formula"]
    assert value[value["type"]] is None
