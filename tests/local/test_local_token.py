"""`reconciler local serve --token-env VAR` accepts only that token and answers any other as
Notion answers a wrong token (401 `unauthorized`, "API token is invalid.": recording
ramnes__notion-sdk-py/tests/cassettes/test_api_response_error.yaml), so a wrong NOTION_TOKEN
can be tried without an account: the CLI says what to check."""

from __future__ import annotations

from pathlib import Path

import notion_client
import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app
from reconciler.local import make_server
from tests.conftest import serving, write_files


def test_only_the_served_token_is_accepted(tmp_path: Path, monkeypatch):
    server = make_server(tmp_path / "notion", port=0, token="secret_right")
    with serving(server) as url:
        right = notion_client.Client(auth="secret_right", base_url=url)
        assert right.users.me()["type"] == "bot"
        wrong = notion_client.Client(auth="secret_wrong", base_url=url)
        with pytest.raises(notion_client.APIResponseError) as info:
            wrong.users.me()
        assert info.value.status == 401 and info.value.code == "unauthorized"
        root = write_files(tmp_path / "p", {
            "reconciler.yaml": "notion: {parent_page_id: '00000000000040008000000000000001'}\n",
            "schemas/notion/t.yaml": "title: T\nproperties:\n  Name: {type: title}\n"})
        monkeypatch.setenv("NOTION_BASE_URL", url)
        monkeypatch.setenv("NOTION_TOKEN", "secret_wrong")
        result = CliRunner().invoke(app, ["plan", "--dir", str(root)])
        assert result.exit_code == 1
        assert "unauthorized: API token is invalid. (check NOTION_TOKEN" in result.output
        assert "secret_wrong" not in result.output
        right.close(), wrong.close()


def test_serve_refuses_a_token_variable_that_is_not_set(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["local", "serve", "--dir", str(tmp_path), "--port", "0",
                                      "--token-env", "NO_SUCH_TOKEN"])
    assert result.exit_code == 1
    assert "--token-env NO_SUCH_TOKEN: that environment variable is not set" in result.output
