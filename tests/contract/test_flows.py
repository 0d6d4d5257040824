"""Each flow against its cassette: replayed through notion-client by default (every recorded
request sent, in a matching order, each answered as recorded, and the flow's assertions hold on
those answers), recorded with `--record-notion` (docs/contract-tests.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .cassettes import CASSETTES, load, make_vcr, origin
from .flows import FLOWS, Target, Workspace
from .scrub import PARENT_ID, Scrubber

#: Replay sends nothing: a request the cassette lacks fails; were one to slip through, it would
#: go to the discard port of this machine with a dummy token.
REPLAY = Target(env={"NOTION_TOKEN": "replay", "NOTION_BASE_URL": "http://127.0.0.1:9",
                     "NOTION_RATE_LIMIT": "1000"}, parent_page_id=PARENT_ID)


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_flow_against_its_cassette(flow: str, recording, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = CASSETTES / f"{flow}.yaml"
    if recording is not None:
        if path.exists() and not recording.against_notion and origin(load(path)) == "Notion":
            pytest.fail(f"{path.name} was recorded against Notion: record it against Notion again "
                        "(NOTION_TOKEN and RECONCILER_CONTRACT_PARENT), or delete it to replace it "
                        "with a recording against local serve")
        path.unlink(missing_ok=True)  # vcrpy would keep the old interactions no new one replaces
        scrubber, target = recording.scrubber(), recording.target
    else:
        assert path.exists(), (f"{path.relative_to(CASSETTES.parents[1])} is missing: record it with "
                               "`pytest tests/contract --record-notion -n 0` (docs/contract-tests.md)")
        scrubber, target = Scrubber(), REPLAY
    with make_vcr(scrubber, record=recording is not None).use_cassette(str(path)) as cassette:
        with Workspace(tmp_path / "project", target, flow, monkeypatch) as ws:
            FLOWS[flow](ws)
    if recording is None:
        unplayed = [i for i, (rq, _) in enumerate(cassette.data) if not cassette.play_counts[i]]
        assert not unplayed, (
            f"the flow no longer sends {len(unplayed)} recorded request(s), e.g. "
            f"#{unplayed[0]} {cassette.data[unplayed[0]][0].method} {cassette.data[unplayed[0]][0].path}: "
            "re-record (docs/contract-tests.md)")
