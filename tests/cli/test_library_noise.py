"""The screen holds the reconciler's own messages: notion-client's `request fail: …` warnings
(logged on the reconciler's logger) are not printed unless `--debug` asks for logs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SPEC = "title: Tickets\nproperties:\n  Name: {type: title}\n"


def test_a_refused_request_prints_no_notion_client_log_line(tmp_path: Path):
    (tmp_path / "schemas" / "notion").mkdir(parents=True)
    (tmp_path / "reconciler.yaml").write_text("notion: {}\n")
    (tmp_path / "schemas" / "notion" / "tickets.yaml").write_text(SPEC)
    env = {k: v for k, v in os.environ.items() if k not in ("NOTION_TOKEN", "DATABASE_URL")}
    # every request answered 429 "public_api_request_blocked", which is never retried
    env["RECONCILER_FAULTS"] = "blocked=1,seed=1"
    for debug in ([], ["--debug"]):  # a process of its own: pytest's log capture would hide it
        result = subprocess.run([sys.executable, "-m", "reconciler", *debug, "plan", "--dir",
                                 str(tmp_path)], env=env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 1, result.stderr
        assert "Error: Notion refused a request: rate_limited: Requests from this integration " \
            "are blocked" in result.stderr and "Traceback" not in result.stderr
        assert ("request fail" in result.stderr) == bool(debug), result.stderr
