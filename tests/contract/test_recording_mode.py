"""The recording mode itself (docs/contract-tests.md), run as a maintainer runs it but into a
scratch folder: without a token, `--record-notion` records a flow against `reconciler local
serve`; the same tests then replay the new cassette; and the mode refuses to run split over
pytest-xdist workers (its flows record before the scans read the cassettes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .cassettes import REPO, load, origin

SECRETS = ("NOTION_TOKEN", "NOTION_API_KEY", "NOTION_BASE_URL", "RECONCILER_CONTRACT_PARENT",
           "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS")


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env["RECONCILER_CASSETTES"] = str(folder)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/contract/test_flows.py",
                           "tests/contract/test_local_matches_cassettes.py", "-k", "schema_lag",
                           *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_record_against_local_serve_then_replay(tmp_path: Path):
    """One run as a maintainer makes it: the flow records first, then the same run replays the
    new cassette against a fresh local Notion and compares every answer
    (test_local_matches_cassettes)."""
    recorded = _pytest(tmp_path, "--record-notion", "-n", "0")
    assert recorded.returncode == 0, recorded.stdout[-3000:] + recorded.stderr[-2000:]
    assert "2 passed" in recorded.stdout, recorded.stdout[-2000:]
    cassette = tmp_path / "schema_lag.yaml"
    interactions = load(cassette)
    assert origin(interactions) != "Notion" and len(interactions) > 10
    assert "Bearer" not in cassette.read_text()  # the dummy token stays out of the cassette


def test_recording_refuses_xdist_workers(tmp_path: Path):
    result = _pytest(tmp_path, "--record-notion", "-n", "2")
    assert result.returncode == 4  # pytest's usage error
    assert "--record-notion records in one process: add -n 0" in result.stderr
    assert not list(tmp_path.iterdir())
