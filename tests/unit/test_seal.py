"""Sealing personal data in plans and opening it for apply (`plan.seal`, `model.sensitive`),
the digest key (`digest_key`), masking (`redact`), and what the views and the ledger show."""

from __future__ import annotations

import stat

import pytest

from reconciler import redact
from reconciler.apply.sealed import ledger_detail
from reconciler.digest_key import ENV_VAR, KEY_FILE, load_digest_key
from reconciler.errors import ConfigError
from reconciler.model.changes import CreatePage, Phase, UpdatePage, UpdateSyncBase
from reconciler.model.content import RowState
from reconciler.model.postgres import TableRef
from reconciler.model.sensitive import Sealer, masked, row_namer
from reconciler.model.sync import BasePair, FieldConflict, SyncInfo, SyncSummary
from reconciler.plan import planfile
from reconciler.plan.model import Plan, PlanHeader
from reconciler.plan.seal import needs_sealing, open_changes, seal_changes, seal_summaries
from reconciler.render import render

SEALER = Sealer(b"k" * 32)
ADA = 'notion.people.page["ada"]'


def _create(email: str = "ada@example.org", note: str = "likes tea") -> CreatePage:
    return CreatePage(address=ADA, phase=Phase.CONTENT, database="people", after=RowState(
        key="ada", hash="sha256:abc", values={"Email": email, "Note": note, "Score": 3},
        sensitive=("Email", "Note")))


def _update(before: str, after: str, *, sync: bool = False) -> UpdatePage:
    info = SyncInfo(source='supabase.public.people.row["r1"]', direction="to_notion") \
        if sync else None
    return UpdatePage(address=ADA, phase=Phase.CONTENT, database="people", sync=info,
                      before=RowState(id="p1", values={"Email": before}, sensitive=("Email",)),
                      after=RowState(key="p1", id="p1", values={"Email": after},
                                     sensitive=("Email",)))


def test_sealed_rows_hold_keyed_digests_of_sensitive_values_only():
    (sealed,) = seal_changes([_create()], SEALER)
    after = sealed.after
    assert after.sealed and after.values["Score"] == 3
    assert all(after.values[f].startswith("hmac-sha256:") for f in ("Email", "Note"))
    assert after.hash.startswith("hmac-sha256:"), "the content hash covers the values"
    assert "ada@example.org" not in planfile.dumps(Plan(header=_header(), changes=(sealed,)))
    # another key, another row: other digests (nothing to compare across plans or rows)
    (other_key,) = seal_changes([_create()], Sealer(b"x" * 32))
    moved = _create().model_copy(update={"address": 'notion.people.page["bob"]'})
    (other_row,) = seal_changes([moved], SEALER)
    assert len({after.values["Email"], other_key.after.values["Email"],
                other_row.after.values["Email"]}) == 3


def test_nothing_sensitive_needs_no_key_and_stays_as_it_is():
    plain = _create().model_copy(update={"after": RowState(key="ada", values={"Score": 1})})
    assert not needs_sealing([plain], {})
    assert seal_changes([plain], Sealer(lambda: pytest.fail("the key was asked for"))) == [plain]
    assert needs_sealing([_create()], {})


def test_opening_takes_each_value_from_the_fresh_diff_when_its_digest_matches():
    sealed = seal_changes([_create()], SEALER)
    opened = open_changes(sealed, {ADA: _create()}, SEALER)
    assert opened.changed == [] and opened.stale == {}
    assert opened.changes[0].after == _create().after


def test_a_value_changed_at_its_source_is_named_and_not_opened():
    sealed = seal_changes([_create()], SEALER)
    opened = open_changes(sealed, {ADA: _create(note="likes coffee")}, SEALER)
    assert f"{ADA}: Note" in opened.changed and f"{ADA}: content hash" not in opened.changed
    assert opened.changes[0].after.sealed, "a value that does not match stays sealed"
    gone = open_changes(sealed, {}, SEALER)
    assert gone.changed == [f"{ADA} (no longer planned)"]


def test_a_sync_change_whose_row_was_edited_after_the_plan_is_stale():
    sealed = seal_changes([_update("old@x.org", "new@x.org", sync=True)], SEALER)
    edited = open_changes(sealed, {ADA: _update("edited@x.org", "new@x.org", sync=True)},
                          SEALER)
    assert edited.changed == [] and ADA in edited.stale
    source = open_changes(sealed, {ADA: _update("old@x.org", "other@x.org", sync=True)},
                          SEALER)
    assert source.changed == [f"{ADA}: Email"], "what it would write changed: refused"


def test_base_pairs_open_or_are_left_unrecorded():
    def base(email: str) -> UpdateSyncBase:
        pair = BasePair(row="r1", page="p1", values={"email": email, "points": 1},
                        sensitive=("email",), seed="supabase:ada@x.org", sensitive_seed=True)
        return UpdateSyncBase(address='supabase.public.people.sync["base"]',
                              phase=Phase.CONTENT, table=TableRef(schema_name="public",
                                                                   table="people"),
                              database="people", pairs=(pair,))
    (sealed,) = seal_changes([base("ada@x.org")], SEALER)
    pair = sealed.pairs[0]
    assert pair.sealed and pair.values["points"] == 1 and "ada" not in pair.model_dump_json()
    same = open_changes([sealed], {sealed.address: base("ada@x.org")}, SEALER).changes[0]
    assert same.pairs[0].values["email"] == "ada@x.org" and same.pairs[0].seed.endswith("x.org")
    moved = open_changes([sealed], {sealed.address: base("bob@x.org")}, SEALER).changes[0]
    assert moved.pairs == ()


def test_conflicts_show_digests_and_the_views_show_neither():
    conflict = FieldConflict(field="email", notion="n@x.org", supabase="s@x.org", base=None,
                             resolution="notion", sensitive=True)
    summary = SyncSummary(database="people", direction="both", policy="latest", conflicts=(
        {"row": "r1", "field": "email", "notion": "n@x.org", "supabase": "s@x.org",
         "base": None, "sensitive": True},))
    sealed = seal_summaries({"supabase.public.people": summary}, SEALER)
    shown = sealed["supabase.public.people"].conflicts[0]
    assert shown["notion"].startswith("hmac-sha256:") and shown["base"] is None
    (change,) = seal_changes([_update("a@x.org", "n@x.org", sync=True).model_copy(update={
        "sync": SyncInfo(source="x", direction="to_notion", conflicts=(conflict,))})], SEALER)
    assert change.sync.conflicts[0].sealed
    doc = planfile.to_document(Plan(header=_header(), changes=(change,), sync=sealed))
    text = render(doc, "text")
    assert "Notion (sensitive) / Supabase (sensitive) (was null)" in text
    assert "Email: (sensitive) -> (sensitive, changed)" in text
    assert "@x.org" not in text + render(doc, "markdown") + render(doc, "json")


def test_views_say_sensitive_and_whether_it_changed():
    (same,) = seal_changes([_update("a@x.org", "a@x.org")], SEALER)
    (create,) = seal_changes([_create()], SEALER)
    doc = planfile.to_document(Plan(header=_header(), changes=(same, create)))
    text, markdown = render(doc, "text"), render(doc, "markdown")
    assert "Email: (sensitive) -> (sensitive, unchanged)" in text
    assert "Email = (sensitive)" in text and "Score = 3" in text
    assert "Email `(sensitive)`" in markdown and "ada@example.org" not in text + markdown


def test_a_sealed_plan_file_round_trips(tmp_path):
    plan = Plan(header=_header(), changes=tuple(seal_changes([_create()], SEALER)))
    path = tmp_path / "p.yaml"
    planfile.save(plan, path)
    assert planfile.load(path) == plan
    assert "sensitive:\n    - Email\n    - Note" in path.read_text()


def test_rows_with_a_sensitive_key_are_named_by_a_keyed_digest():
    name = row_namer(SEALER, "notion.contacts", True)
    assert name("ada@x.org") == name("ada@x.org") != name("bob@x.org")
    assert name("ada@x.org").startswith("sensitive:") and "ada" not in name("ada@x.org")
    assert row_namer(None, "notion.contacts", False)("ada") == "ada"
    with pytest.raises(ValueError):
        row_namer(None, "notion.contacts", True)


def _header() -> PlanHeader:
    return PlanHeader(tool_version="0", created_at="2026-01-01T00:00:00Z", spec_hash="sha256:0",
                      digest_key=SEALER.key_id)


# --- the digest key ----------------------------------------------------------------------------


def test_the_key_comes_from_the_environment_first(tmp_path):
    assert load_digest_key(tmp_path, {ENV_VAR: "a" * 20}) == b"a" * 20
    assert not (tmp_path / KEY_FILE).exists()
    with pytest.raises(ConfigError, match="at least 16"):
        load_digest_key(tmp_path, {ENV_VAR: "short"})


def test_a_developer_key_is_made_once_private_and_kept(tmp_path):
    key = load_digest_key(tmp_path, {})
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) == 64
    assert load_digest_key(tmp_path, {}) == key
    assert Sealer(key).key_id == Sealer(key).key_id != Sealer(b"other").key_id


def test_ci_makes_no_key_and_says_which_secret_to_set(tmp_path):
    with pytest.raises(ConfigError, match=ENV_VAR):
        load_digest_key(tmp_path, {"CI": "true"})
    assert not (tmp_path / KEY_FILE).exists()
    assert load_digest_key(tmp_path, {"CI": "true", ENV_VAR: "b" * 16}) == b"b" * 16


# --- masking -----------------------------------------------------------------------------------


def test_remembered_values_are_masked_in_any_text():
    redact.remember(["ada@x.org", {"start": "2026-01-02"}, 42, "ab"])
    redact.remember(({"text": "Owner", "bold": True}, {"text": ": ada is a long run of text"}))
    text = redact.redact("ada@x.org wrote on 2026-01-02 (42, ab); the Owner said: ada is a long "
                         "run of text")
    assert text == "(sensitive) wrote on (sensitive) (42, ab); the Owner said(sensitive)"
    assert redact.redact("Owner: ada is a long run of text") == "(sensitive)", "the whole text"
    assert masked("value 'ada@x.org' is not an option", "ada@x.org") == \
        "value (sensitive) is not an option"


def test_the_ledger_gets_digests_of_hashes_and_masked_text():
    redact.remember("ada@example.org")
    (change,) = seal_changes([_create()], SEALER)
    detail = ledger_detail(change, {"hash": "sha256:abc", "reason": "refused ada@example.org",
                                    "page_id": "p1"}, SEALER)
    assert detail["hash"] == change.after.hash, "the digest the plan shows"
    assert detail["reason"] == "refused (sensitive)" and detail["page_id"] == "p1"
