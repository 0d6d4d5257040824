"""The local Notion against the cassettes: each flow runs again on a fresh in-process local
Notion, recorded through the same vcrpy filters, and its requests and answers are compared with
the committed cassette's (compare.py: same requests, same statuses, same response key paths,
ids mapped). While the cassettes come from `local serve` this checks the recording is
reproducible; once recorded against Notion, it is the local Notion's contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.local import local_client, root_page_id

from .cassettes import CASSETTES, load, make_vcr, origin
from .compare import compare
from .flows import FLOWS, Target, Workspace
from .scrub import Scrubber, find_secrets

#: Differences between Notion's answers and the local Notion's that are known and accepted:
#: a regex over response key paths → why. Empty: every difference fails.
TOLERATED: dict[str, str] = {}


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_local_notion_answers_the_flow_as_recorded(flow: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cassette = CASSETTES / f"{flow}.yaml"
    if not cassette.exists():
        pytest.fail(f"{cassette.name} is missing: `pytest tests/contract --record-notion -n 0` "
                    "(docs/contract-tests.md)")
    recorded = load(cassette)
    root = tmp_path / "project"
    notion = local_client(root / ".reconciler" / "notion")
    parent, me = root_page_id(notion), notion.users.me()
    notion.close()
    scrubber = Scrubber(parent)
    scrubber.learn(me)
    fresh = tmp_path / "local.yaml"
    with make_vcr(scrubber, record=True).use_cassette(str(fresh)):
        with Workspace(root, Target(parent_page_id=parent), flow, monkeypatch) as ws:
            FLOWS[flow](ws)
    text = fresh.read_text(encoding="utf-8")
    assert not find_secrets(text) and me["bot"]["workspace_name"] not in text
    problems = compare(recorded, load(fresh), TOLERATED)
    assert not problems, f"{flow} (recorded against {origin(recorded)}):\n" + "\n".join(problems)
