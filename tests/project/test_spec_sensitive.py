"""Declaring personal data (issue 16, point 1): `sensitive:` on a property, a column or a whole
content set; people and contact types by default; `mirror:` carries it to the columns and the
sync to its fields; the bundled contact and member databases are sensitive."""

from __future__ import annotations

from pathlib import Path

import yaml

from reconciler.diff.sync import diff_sync
from reconciler.diff.sync_world import SyncInput
from reconciler.model.property_types import PROPERTY_TYPES
from reconciler.model.sync import NotionSide, PostgresSide
from reconciler.plan import planfile
from reconciler.plan.model import Plan, PlanHeader
from reconciler.plan.seal import seal_changes, seal_summaries
from reconciler.project import Project, load_project
from reconciler.render import render

PEOPLE = """\
title: People
properties:
  Name: {type: title}
  Email: {type: email}
  Phone: {type: phone_number, sensitive: false}
  Owner: {type: people}
  Note: {type: rich_text, sensitive: true}
  Score: {type: number}
content:
  key: Name
  hash: Note
  source: {yaml: content/people.yaml, items: people, fields: {Name: name, Email: email}}
"""
TABLE = """\
mirror: people
columns:
  score: {sensitive: true}
  email: {sensitive: false}
"""
MEMBERS = "title: Members\nproperties:\n  Name: {type: title}\n  Email: {type: email}\n"
SYNCED = "mirror: members\nsync: {direction: both}\ncolumns:\n  email: {sensitive: false}\n"
LEDGER = """\
columns:
  login: {type: text, primary_key: true}
  secret: {type: text, sensitive: true}
  checksum: {type: text}
content:
  key: login
  hash: checksum
  sensitive: true
  source: {yaml: content/logins.yaml, items: logins, fields: {login: login, secret: secret}}
"""


def _load(make_project) -> Project:
    return load_project(make_project({
        "schemas/notion/people.yaml": PEOPLE, "schemas/supabase/people.yaml": TABLE,
        "schemas/notion/members.yaml": MEMBERS, "schemas/supabase/members.yaml": SYNCED,
        "schemas/supabase/logins.yaml": LEDGER,
        "content/people.yaml": "people: [{name: ada, email: ada@x.org}]\n",
        "content/logins.yaml": "logins: [{login: ada, secret: s3}]\n"}))


def test_people_and_contact_types_are_sensitive_unless_they_opt_out(make_project):
    assert {n for n, t in PROPERTY_TYPES.items() if t.sensitive} == {
        "email", "phone_number", "people", "created_by", "last_edited_by"}
    props = {p.name: p.sensitive for p in _load(make_project).notion.database("people").properties}
    assert props == {"Name": False, "Email": True, "Phone": False, "Owner": True, "Note": True,
                     "Score": False}


def test_mirror_carries_it_to_columns_which_may_say_otherwise(make_project):
    project = _load(make_project)
    table = next(t for t in project.supabase if t.name == "people")
    columns = {c.name: c.sensitive for c in table.columns}
    assert columns["owner"] and columns["note"] and columns["score"]
    assert not columns["email"] and not columns["phone"] and not columns["name"]
    fields = {f.column: f.sensitive for f in project.sync[0].fields}
    assert fields == {"name": False, "email": True}, \
        "a synced field is sensitive when its property or its column is"


def test_content_sets_know_their_sensitive_fields_and_whether_the_key_is_one(make_project):
    sets = {c.address: c for c in _load(make_project).content}
    people = sets["notion.people"]
    assert people.sensitive == ("Email", "Note", "Owner") and not people.sensitive_key
    logins = sets["supabase.public.logins"]
    assert logins.sensitive == ("login", "secret") and logins.sensitive_key  # the whole set


def test_the_bundled_contacts_and_members_are_sensitive(bundled_project: Project):
    def sensitive(db: str) -> set[str]:
        return {p.name for p in bundled_project.notion.database(db).properties if p.sensitive}
    assert {"Name", "First Name", "Last Name", "Email", "Phone"} <= sensitive("contacts_profiles")
    assert {"Username", "Display Name", "Discord User ID"} <= sensitive("community_members")
    contacts = next(t for t in bundled_project.sync if t.name == "contacts_profiles")
    assert {f.column for f in contacts.fields if f.sensitive} >= {"email", "first_name", "name"}
    assert contacts.seed_keys["notion"] == "Email"


def test_the_bundled_plan_holds_no_contact_value(bundled: Path):
    """What a pull request shows of the seeds of the contact database: no name, no e-mail."""
    seeds = yaml.safe_load((bundled / "content" / "sync" / "contacts_profiles.yaml").read_text())
    personal = [r[k] for side in seeds.values() for r in side
                for k in ("Email", "email", "Name", "name", "Last Name", "last_name") if k in r]
    first = [r[k] for side in seeds.values() for r in side for k in ("First Name", "first_name")
             if k in r]  # (the tasks' own descriptions name Ada and Grace too)
    assert "ada@example.com" in personal
    project = load_project(bundled)
    found = diff_sync([SyncInput(t, NotionSide(), PostgresSide()) for t in project.sync],
                      name=project.sealer.name)
    plan = Plan(header=PlanHeader(tool_version="0", created_at="x", spec_hash="x",
                                  digest_key=project.sealer.key_id),
                changes=tuple(seal_changes(found.changes, project.sealer)),
                sync=seal_summaries(found.summaries, project.sealer))
    doc = planfile.to_document(plan)
    shown = planfile.dumps(plan) + render(doc, "text") + render(doc, "markdown")
    assert 'notion.contacts_profiles.page["sensitive:' in shown
    assert not [p for p in personal if p in shown]
    contacts = planfile.dumps(plan.model_copy(update={"changes": tuple(
        c for c in plan.changes if "contacts_profiles" in c.address)}))
    assert "contacts_profiles" in contacts and not [p for p in first if p in contacts]
