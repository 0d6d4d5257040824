"""Tokens and passwords never leave the process: not in stdout, stderr, logs, plans, state,
ledger or journal, whatever the command and however it fails.

A real token travels to the local Notion served over HTTP (Authorization: Bearer …), and a real
password authenticates a Postgres role created for the test.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
import pytest
import yaml
from tests.cli_runner import CliRunner

from reconciler.apply.lock import project_lock
from reconciler.cli import app
from tests.safety.conftest import TASKS

TOKEN = "secret_RECONCILERTESTTOKEN123"
PASSWORD = "pw_RECONCILERSECRET"
SECRETS = (TOKEN, PASSWORD, "RECONCILERTESTTOKEN", "RECONCILERSECRET")

runner = CliRunner()


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


class Transcript:
    """Runs commands and remembers everything they printed."""

    def __init__(self, root: Path):
        self.root = root
        self.seen: list[tuple[str, str]] = []

    def run(self, *args: str, code: int | None = 0, project: bool = True):
        argv = [*args, "--dir", str(self.root)] if project else list(args)
        result = runner.invoke(app, argv)
        label = " ".join(args)
        self.seen += [(f"{label} stdout", result.stdout), (f"{label} stderr", result.stderr)]
        assert "Traceback" not in result.output, (label, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            (label, repr(result.exception))
        if code is not None:
            assert result.exit_code == code, (label, result.output)
        return result


@pytest.mark.postgres
def test_no_command_leaks_a_token_or_password(make_project, notion_server, secret_database,
                                               monkeypatch, caplog, tmp_path):
    base_url, parent = notion_server
    assert PASSWORD in secret_database
    with psycopg.connect(secret_database) as conn:  # the password is really used
        assert conn.execute("SELECT current_user").fetchone()[0].startswith("reconciler_secret")
    monkeypatch.setenv("NOTION_TOKEN", TOKEN)
    monkeypatch.setenv("NOTION_BASE_URL", base_url)
    monkeypatch.setenv("NOTION_PARENT_PAGE_ID", parent)
    monkeypatch.setenv("DATABASE_URL", secret_database)
    caplog.set_level(logging.DEBUG)
    root = make_project(tables=True)
    spec = root / "schemas" / "notion" / "tasks.yaml"
    t = Transcript(root)
    plans = root / "plans"

    t.run("validate")
    first = t.run("plan", "--out", str(plans / "first.yaml"))
    assert "+ notion.tasks" in first.stdout and "supabase.public.tasks" in first.stdout
    doc = yaml.safe_load((plans / "first.yaml").read_text())
    targets = str(doc["header"]["backends"] if "header" in doc else doc.get("targets"))
    assert "***" in targets and not leaks(targets), targets
    for fmt in ("text", "markdown", "json"):
        t.run("show", str(plans / "first.yaml"), "--format", fmt, project=False)
    t.run("apply", str(plans / "first.yaml"))
    t.run("schema")

    # two plans of the same change, the second applied first: the first is the same plan,
    # already applied (the journal says when)
    spec.write_text(TASKS + "  Due: {type: date}\n")
    t.run("plan", "--out", str(plans / "stale.yaml"))
    t.run("plan", "--out", str(plans / "fresh.yaml"))
    t.run("apply", str(plans / "fresh.yaml"))
    stale = t.run("apply", str(plans / "stale.yaml"), code=1)
    assert "already applied" in stale.stderr

    # destructive changes refused, in Notion and in Postgres
    spec.write_text(TASKS)
    (root / "schemas" / "supabase" / "tasks.yaml").write_text("mirror: tasks\ncolumns: {}\n")
    t.run("plan", "--out", str(plans / "destroy.yaml"))
    refused = t.run("apply", str(plans / "destroy.yaml"), code=1)
    assert "--allow-destroy" in refused.stderr

    debug = runner.invoke(app, ["--debug", "plan", "--dir", str(root)])
    t.seen += [("--debug plan stdout", debug.stdout), ("--debug plan stderr", debug.stderr)]
    assert debug.exit_code == 0, debug.output
    assert "HTTP GET /v1/databases/" in debug.stderr and "-> 200 (" in debug.stderr and "ms)" in debug.stderr
    assert "SQL " in debug.stderr

    with project_lock(root) as info:
        held = t.run("apply", str(plans / "destroy.yaml"), code=1)
        assert info.id in held.stderr
        t.run("force-unlock", "not-the-id", "--force", code=1)

    # connection failures: a wrong Postgres port, a Notion URL that answers 404
    parts = psycopg.conninfo.conninfo_to_dict(secret_database)
    monkeypatch.setenv("DATABASE_URL", "postgresql://{user}:{password}@127.0.0.1:1/{dbname}".format(
        **parts))  # the same credentials, a port nothing listens on (also with the embedded server)
    broken = t.run("plan", code=1)
    assert "cannot connect to Postgres" in broken.stderr
    monkeypatch.setenv("DATABASE_URL", secret_database)
    monkeypatch.setenv("NOTION_BASE_URL", base_url + "/nowhere")
    t.run("plan", code=1)
    t.run("doctor", code=1)

    # the operator commands (issue 17), on the working target again
    monkeypatch.setenv("NOTION_BASE_URL", base_url)
    t.run("status")
    t.run("doctor", code=None)
    t.run("graph")
    t.run("import", "--all-notion", "--schema", "public", "--force")
    monkeypatch.setenv("DATABASE_URL", "postgresql://{user}:{password}@127.0.0.1:6543/{dbname}"
                       .format(**parts))  # Supabase's transaction pooler port: refused
    pooler = t.run("doctor", code=1)
    assert "6543" in pooler.stdout

    for label, text in t.seen:
        assert not leaks(text), (label, text)
    written = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.name == "ledger.ndjson" for p in written)
    assert any(p.name == "state.json" for p in written)
    for path in written:
        assert not leaks(path.read_text(errors="replace")), path
    for record in caplog.records:
        message = record.getMessage()
        assert not leaks(message), (record.name, message)
        assert not leaks(str(record.exc_text or "")), record.name
    assert any(r.name == "reconciler.http" for r in caplog.records)


def test_the_log_filter_masks_every_secret_shape():
    from reconciler.cli.debug import mask_secrets

    text = mask_secrets(
        f"Authorization: Bearer {TOKEN} ntn_{'a' * 20} {TOKEN} "
        f"postgresql://u:{PASSWORD}@h:5432/db host=h password={PASSWORD} "
        f"password='{PASSWORD} x'")
    assert not leaks(text) and "ntn_aaaa" not in text, text


def test_a_secret_logged_by_mistake_is_masked(caplog):
    from reconciler.cli.debug import protect_loggers

    protect_loggers()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("reconciler.notion").warning("retrying with %s", f"Bearer {TOKEN}")
    logging.getLogger("reconciler.sql").debug("url %s", f"postgresql://u:{PASSWORD}@h/db")
    assert caplog.records and not any(leaks(r.getMessage()) for r in caplog.records)


def test_a_transport_error_is_a_user_error_without_the_token(capsys):
    """A Notion that cannot be reached once retries are exhausted (httpx.TransportError) is an
    `Error:` line, not a traceback, and the URL's credentials are masked."""
    import httpx
    import typer

    from reconciler.cli import user_errors

    @user_errors
    def command() -> None:
        request = httpx.Request("GET", f"http://u:{PASSWORD}@127.0.0.1:1/v1/search",
                                headers={"Authorization": f"Bearer {TOKEN}"})
        raise httpx.ConnectError(f"[Errno 111] Connection refused Bearer {TOKEN}", request=request)

    with pytest.raises(typer.Exit) as exit_:
        command()
    assert exit_.value.exit_code == 1
    err = capsys.readouterr().err
    assert "Error:" in err and "cannot reach" in err and "127.0.0.1:1" in err
    assert not leaks(err), err
