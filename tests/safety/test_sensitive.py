"""Sensitive values never leave the process except to the live systems (issue 16): not in plans,
views, the ledger, the journal, `--debug` logs, error messages or `reconciler.sync_activity`.

A canary (`CANARY`, inside every sensitive value) sits in a sensitive Notion property, a
sensitive Postgres column, a whole sensitive content set (its keys too), and in rows a two-way
sync moves both ways; every command runs, error paths included, and everything printed, logged
and written is searched for it. Through the CLI, the real notion-client on the local Notion and
a real Postgres.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from tests.cli_runner import CliRunner

from reconciler.cli import app
from tests.e2e.sync_helpers import example_database, sync_database  # noqa: F401 (fixtures)
from tests.e2e.sync_helpers import edit_page, page_named, schema_of, set_edited, set_updated, sql
from tests.conftest import REPO, write_files

CANARY = "zqCANARY7x"
runner = CliRunner()

PEOPLE = """\
title: People
properties:
  Handle: {type: title}
  Note: {type: rich_text, sensitive: true}
  Stage: {type: select, options: [Lead, Client], sensitive: true}
  Email: {type: email}
  Score: {type: number}
  Source SHA: {type: rich_text}
content:
  key: Handle
  hash: Source SHA
  source:
    yaml: content/people.yaml
    items: people
    fields: {Handle: handle, Note: note, Stage: stage, Email: email, Score: score}
"""
CONTACTS = """\
title: Contacts
properties:
  Name: {type: title}
  Phone: {type: phone_number}
  City: {type: rich_text}
  Source SHA: {type: rich_text}
content:
  key: Name
  hash: Source SHA
  sensitive: true
  source:
    yaml: content/contacts.yaml
    items: contacts
    fields: {Name: name, Phone: phone, City: city}
"""
MEMBERS = """\
title: Members
properties:
  Name: {type: title}
  Email: {type: email}
  Level: {type: select, options: [Free, Premium], sensitive: true}
  Points: {type: number}
"""
ACCOUNTS = """\
schema: {schema}
columns:
  login: {{type: text, primary_key: true}}
  secret: {{type: text, sensitive: true}}
  plan: {{type: text}}
  checksum: {{type: text}}
content:
  key: login
  hash: checksum
  source:
    yaml: content/accounts.yaml
    items: accounts
    fields: {{login: login, secret: secret, plan: plan}}
"""


def _content(version: str = "v1") -> dict[str, str]:
    people = {"people": [
        {"handle": "ada", "note": f"{CANARY}-note-{version}", "stage": "Lead",
         "email": f"{CANARY}.ada@example.org", "score": 1},
        {"handle": "bob", "note": "public note", "stage": "Client", "email": None, "score": 2}]}
    contacts = {"contacts": [{"name": f"{CANARY} Lovelace", "phone": f"+47 {CANARY}",
                              "city": "London"}]}
    accounts = {"accounts": [{"login": "ada", "secret": f"{CANARY}-secret", "plan": "pro"}]}
    return {"content/people.yaml": yaml.safe_dump(people),
            "content/contacts.yaml": yaml.safe_dump(contacts),
            "content/accounts.yaml": yaml.safe_dump(accounts)}


def _project(root: Path, schema: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text((REPO / "reconciler.yaml").read_text())
    return write_files(root, {
        "schemas/notion/people.yaml": PEOPLE, "schemas/notion/contacts.yaml": CONTACTS,
        "schemas/notion/members.yaml": MEMBERS,
        "schemas/supabase/members.yaml": f"mirror: members\nschema: {schema}\n"
                                         "sync: {direction: both, conflicts: latest}\n",
        "schemas/supabase/accounts.yaml": ACCOUNTS.format(schema=schema), **_content()})


class Transcript:
    """Runs commands and keeps everything they printed."""

    def __init__(self, root: Path):
        self.root, self.seen = root, []

    def run(self, *args: str, code: int | None = 0, project: bool = True):
        argv = [*args, "--dir", str(self.root)] if project else list(args)
        result = runner.invoke(app, argv)
        self.seen += [(f"{' '.join(args)} stdout", result.stdout),
                      (f"{' '.join(args)} stderr", result.stderr)]
        assert "Traceback" not in result.output, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            (args, repr(result.exception))
        if code is not None:
            assert result.exit_code == code, (args, result.output)
        return result

    def plan(self, name: str) -> Path:
        out = self.root / "plans" / f"{name}.yaml"
        self.run("plan", "--out", str(out))
        for fmt in ("text", "markdown", "json"):
            self.run("show", str(out), "--format", fmt, project=False)
        return out


@pytest.mark.postgres
def test_a_canary_in_sensitive_values_is_found_nowhere(tmp_path: Path, example_database: str,
                                                       monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    root = _project(tmp_path / "p", schema_of(example_database))
    t = Transcript(root)
    t.run("validate")

    # first apply: content of every kind, the sync's tables and databases
    first = t.plan("first")
    doc = json.loads(t.run("show", str(first), "--format", "json", project=False).stdout)
    contact = next(c for c in doc["changes"] if c["address"].startswith("notion.contacts.page"))
    assert '"sensitive:' in contact["address"] and contact["after"]["sealed"]
    assert contact["after"]["values"]["City"].startswith("hmac-sha256:")  # the whole set
    people = next(c for c in doc["changes"] if c["address"] == 'notion.people.page["ada"]')
    assert set(people["after"]["sensitive"]) == {"Email", "Note", "Stage"}
    assert people["after"]["values"]["Score"] == 1  # not sensitive: shown
    text = t.run("show", str(first), project=False).stdout
    assert "Note = (sensitive)" in text and "Score = 1" in text
    t.run("apply", str(first))
    rows = sql(example_database, "SELECT secret FROM accounts")
    assert rows == [(f"{CANARY}-secret",)], "apply wrote the value it read from the source"
    ada = page_named(root, "people", "ada")["properties"]
    assert ada["Email"]["email"] == f"{CANARY}.ada@example.org"
    t.run("plan", "--detailed-exitcode")

    # rows flowing both ways: a Supabase insert and a Notion edit, then a conflict
    sql(example_database, "INSERT INTO members (name, email, level, points) VALUES "
                          f"('Grace', '{CANARY}.grace@example.org', 'Premium', 5)")
    t.run("apply", "--auto-approve")
    grace = page_named(root, "members", "Grace")
    assert grace["properties"]["Email"]["email"] == f"{CANARY}.grace@example.org"
    edit_page(root, grace["id"], {"Email": {"email": f"{CANARY}.g2@example.org"}})
    both = t.plan("both")
    t.run("apply", str(both))
    assert sql(example_database, "SELECT email FROM members") == [(f"{CANARY}.g2@example.org",)]
    edit_page(root, grace["id"], {"Email": {"email": f"{CANARY}.n@example.org"}})
    set_edited(root, grace["id"], "2030-01-01T10:00:00.000Z")
    sql(example_database, f"UPDATE members SET email = '{CANARY}.s@example.org'")
    set_updated(example_database, "members", "true", "2029-01-01T10:00:00Z")
    conflict = t.plan("conflict")
    shown = t.run("show", str(conflict), project=False).stdout
    assert "conflict" in shown and "Notion (sensitive) / Supabase (sensitive)" in shown
    t.run("--debug", "apply", str(conflict))

    # a sensitive value changed after the plan: apply refuses, writes nothing
    write_files(root, _content("v2"))
    changed = t.plan("changed")
    write_files(root, _content("v3"))
    refused = t.run("apply", str(changed), code=1)
    assert "Sensitive values changed since the plan" in refused.stderr
    assert 'notion.people.page["ada"]: Note' in refused.stderr
    assert page_named(root, "people", "ada")["properties"]["Note"]["rich_text"][0][
        "plain_text"].endswith("-v1"), "nothing written"
    # … and a plan made under another digest key is refused before any check
    monkeypatch.setenv("RECONCILER_DIGEST_KEY", "another-key-0123456789")
    other = t.run("apply", str(changed), code=1)
    assert "made with another digest key" in other.stderr
    monkeypatch.delenv("RECONCILER_DIGEST_KEY")
    write_files(root, _content("v2"))
    t.run("--debug", "apply", str(changed))
    assert page_named(root, "people", "ada")["properties"]["Note"]["rich_text"][0][
        "plain_text"] == f"{CANARY}-note-v2"

    # error paths: a value outside a closed select, in a content source and crossing the sync
    bad = _content("v2")
    bad["content/people.yaml"] = bad["content/people.yaml"].replace("stage: Lead",
                                                                    f"stage: {CANARY}-stage")
    write_files(root, bad)
    vocabulary = t.run("plan", code=1)
    assert "(sensitive)" in vocabulary.stderr and "people.yaml" in vocabulary.stderr
    write_files(root, _content("v2"))
    sql(example_database, f"UPDATE members SET level = '{CANARY}-level'")
    crossing = t.run("plan", code=1)
    assert "cannot cross" in crossing.stderr and "(sensitive)" in crossing.stderr
    sql(example_database, "UPDATE members SET level = 'Free'")
    t.run("--debug", "plan")

    # show --reveal prints the values, read from the sources, but never in CI
    write_files(root, _content("v4"))
    last = t.plan("last")
    assert "Note: (sensitive) -> (sensitive, changed)" in t.seen[-6][1]
    revealed = runner.invoke(app, ["show", str(last), "--reveal", "--dir", str(root)])
    assert revealed.exit_code == 0, revealed.output
    assert f'Note: "{CANARY}-note-v2" -> "{CANARY}-note-v4"' in revealed.stdout
    monkeypatch.setenv("CI", "true")
    refused = t.run("show", str(last), "--reveal", code=1)
    assert "refused in CI" in refused.stderr
    monkeypatch.delenv("CI")

    _assert_found_nowhere(t, root, example_database, caplog)
    assert CANARY in revealed.stdout, "--reveal shows what the plan seals"


def _assert_found_nowhere(t: Transcript, root: Path, url: str, caplog) -> None:
    for label, text in t.seen:
        assert CANARY not in text, (label, text)
    for record in caplog.records:
        assert CANARY not in record.getMessage(), (record.name, record.getMessage())
    assert any(r.name == "reconciler.http" for r in caplog.records)
    assert any(r.name == "reconciler.sql" for r in caplog.records)
    # local copies of the live systems (the local Notion's store, read snapshots) hold what the
    # live systems hold; everything else the reconciler wrote is searched
    local = (root / ".reconciler" / "notion", root / ".reconciler" / "content")
    written = [p for p in root.rglob("*") if p.is_file() and not p.is_relative_to(root / "content")
               and not any(p.is_relative_to(d) for d in local)]
    names = {p.name for p in written}
    assert {"ledger.ndjson", "journal.ndjson", "state.json", "last.yaml"} <= names, names
    for path in written:
        assert CANARY not in path.read_text(errors="replace"), path
    activity = sql(url, "SELECT row_to_json(a)::text FROM reconciler.sync_activity a")
    assert activity and not any(CANARY in row[0] for row in activity)


@pytest.mark.postgres
def test_a_sensitive_field_edited_between_plan_and_apply_is_stale_not_refused(
        tmp_path: Path, example_database: str):
    """The page or row of a sync change edited after the plan: its sealed `before` no longer
    matches, so the change is left alone (`stale`), as for any field; the rest is applied."""
    root = _project(tmp_path / "p", schema_of(example_database))
    t = Transcript(root)
    t.run("apply", "--auto-approve")
    sql(example_database, "INSERT INTO members (name, email, level, points) VALUES "
                          f"('Grace', '{CANARY}.a@example.org', 'Free', 1)")
    t.run("apply", "--auto-approve")
    grace = page_named(root, "members", "Grace")
    edit_page(root, grace["id"], {"Email": {"email": f"{CANARY}.b@example.org"},
                                  "Points": {"number": 2}})
    plan = t.plan("edited")
    sql(example_database, f"UPDATE members SET email = '{CANARY}.c@example.org'")
    applied = t.run("apply", str(plan))
    assert "left alone: edited after the plan" in applied.stdout
    assert sql(example_database, "SELECT email, points FROM members") == [
        (f"{CANARY}.c@example.org", 1)], "the edit made after the plan is not overwritten"
    ledger = [json.loads(line) for line in
              (root / ".reconciler" / "ledger.ndjson").read_text().splitlines()]
    assert any(e["status"] == "stale" and e["kind"] == "update_row" for e in ledger)
    assert not [text for _, text in t.seen if CANARY in text]
