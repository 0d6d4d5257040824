"""Shared fixtures: model factories, a copy of the bundled example project, and private copies
of the bundled example as applied once per test run (`applied_project`, `applied_database`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socketserver
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from reconciler.model.notion import Database, Property, Relation, SelectOption
from reconciler.project import Project, load_project, patterns
from tests.applied_example import AppliedExample, build_applied_example
from tests.databases import clone_database, drop_deferred, embedded_server_folder, fresh_database

REPO = Path(__file__).resolve().parents[1]
#: The tests run as on a developer's machine, in CI too: each test project makes its own digest
#: key in its `.reconciler/` (CI refuses to make one: `reconciler.digest_key`); the tests of that
#: rule set `CI` themselves.
os.environ.pop("CI", None)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server tests may create databases on: `DATABASE_URL` when set (CI and the
    development machines have one on 127.0.0.1:5432), else an embedded `pgserver`. The
    databases the tests made on it are dropped when the run ends (`tests/databases.py`)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        try:
            yield url
        finally:
            drop_deferred()
        return
    with warnings.catch_warnings():  # platformdirs' RuntimeDirWarning, as the product does
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR", category=UserWarning)
        import pgserver

    with embedded_server_folder("reconciler-test-pgdata-") as folder:
        server = pgserver.get_server(folder, cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            drop_deferred()
            server.cleanup()


@contextlib.contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[str]:
    """Run `server` (e.g. `reconciler.local.make_server(...)`) on a daemon thread; yield its URL
    `http://127.0.0.1:<port>`; then shut it down and close its socket. The thread looks for the
    shutdown request every 10 ms (`serve_forever`'s default, 0.5 s, made each shutdown cost
    half a second)."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write `{relative path: text}` under `root` (folders created); returns `root`."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def make_property(name: str, type: str = "rich_text", **fields) -> Property:
    """A property with sensible defaults; `options` may be given as plain names."""
    options = fields.pop("options", ())
    fields["options"] = tuple(o if isinstance(o, SelectOption) else SelectOption(name=o, color="blue")
                              for o in options)
    if isinstance(fields.get("relation"), str):
        fields["relation"] = Relation(database=fields["relation"])
    return Property(name=name, type=type, **fields)


def make_database(key: str = "tasks", *props: Property, **fields) -> Database:
    """A database with a `Name` title property first unless one is given."""
    if not any(p.type == "title" for p in props):
        props = (Property(name="Name", type="title", id="title"),) + props
    fields.setdefault("title", key.replace("_", " ").title())
    return Database(name=key, properties=tuple(props), **fields)


@pytest.fixture(scope="session")
def dev_database(server_url: str) -> Iterator[str]:
    """An empty database that plans check their migrations on (the dev database), one per
    test session: every check runs in a transaction that is rolled back, so it stays empty."""
    with fresh_database(server_url) as url:
        yield url


@pytest.fixture(autouse=True)
def _dev_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans that reach Postgres check migrations on the session's dev database rather than
    starting an embedded server in each test's project (under pytest's `tmp_path`, where the
    embedded server cannot live: `tests/databases.py`, `embedded_server_folder`). Set when
    `DATABASE_URL` names a server, or when the test uses the session's server (`server_url`,
    directly or through another fixture: then the embedded one), so tests that never touch
    Postgres start none."""
    if os.environ.get("DEV_DATABASE_URL"):
        return
    if os.environ.get("DATABASE_URL") or "server_url" in request.fixturenames:
        monkeypatch.setenv("DEV_DATABASE_URL", request.getfixturevalue("dev_database"))


@pytest.fixture(autouse=True)
def _fresh_redactions() -> Iterator[None]:
    """Each test starts with no sensitive value remembered (`reconciler.redact` is process-wide:
    what one test's project held must not mask another test's messages)."""
    from reconciler import redact

    redact.forget_all()
    yield
    redact.forget_all()


@pytest.fixture
def example_database(server_url: str, dev_database: str,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database for one test, exported as `DATABASE_URL` for the CLI to use (and the
    session's dev database as `DEV_DATABASE_URL`)."""
    with fresh_database(server_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("DEV_DATABASE_URL", dev_database)
        yield url


def copy_bundled_example(root: Path) -> Path:
    """Write the bundled example (reconciler.yaml, schemas/ without .schema, content/) to `root`."""
    root.mkdir(parents=True)
    shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
    shutil.copytree(REPO / "schemas", root / "schemas",
                    ignore=shutil.ignore_patterns(".schema"))
    shutil.copytree(REPO / "content", root / "content")  # sources of the content: sections
    return root


RECORDINGS = REPO / "tests" / "recordings"


def load_cassette(path: Path) -> list[dict]:
    """The `interactions` of a vcrpy YAML cassette, parsed with libyaml's loader when PyYAML has
    it (the 58 vendored cassettes, 2.7 MB: 3 s with the pure-Python loader)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)["interactions"]  # noqa: S506


@pytest.fixture(scope="session")
def recordings_dir() -> Path:
    """`tests/recordings/`: the recorded Notion traffic, vendored (see its README). Part of the
    repository: a checkout without it is broken, not skipped."""
    assert RECORDINGS.is_dir(), f"recorded Notion traffic missing at {RECORDINGS}"
    return RECORDINGS


@pytest.fixture(scope="session")
def cassettes(recordings_dir: Path) -> dict[str, list[dict]]:
    """Every cassette's interactions, by path relative to the recordings folder; parsed once per
    run and shared (read, never mutate)."""
    files = sorted(recordings_dir.rglob("*.yaml"))
    assert files, f"no cassettes under {recordings_dir}"
    return {str(p.relative_to(recordings_dir)): load_cassette(p) for p in files}


@pytest.fixture(scope="session")
def bundled_project() -> Project:
    """The bundled example as `load_project(REPO, env={})` returns it, loaded once per run and
    shared: its models are frozen, and tests only read it."""
    return load_project(REPO, env={})


@pytest.fixture
def example_project(tmp_path: Path, example_database: str) -> Path:
    """A private copy of the bundled example (reconciler.yaml + schemas/), without local state,
    whose Supabase tables go to a fresh database."""
    return copy_bundled_example(tmp_path / "project")


@pytest.fixture(scope="session")
def applied_example(server_url: str, dev_database: str,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppliedExample]:
    """The bundled example planned (`plan --detailed-exitcode --out`) and applied (`apply <plan>
    --auto-approve`) through the CLI once per test run: a template whose project and database tests never use
    directly (take `applied_project`); tests may read `.plan`, the fresh project's saved plan.
    At the end of the run it must be byte for byte as built, or the run fails."""
    with fresh_database(server_url) as url:
        mp = pytest.MonkeyPatch()
        try:
            without_real_notion(mp)
            mp.setenv("DATABASE_URL", url)
            mp.setenv("DEV_DATABASE_URL", dev_database)
            template = build_applied_example(
                copy_bundled_example(tmp_path_factory.mktemp("applied-example") / "project"),
                url, server_url)
        finally:
            mp.undo()
        yield template
        template.check_unchanged()


@pytest.fixture
def applied_database(applied_example: AppliedExample, server_url: str,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private database copied from the applied example's (`CREATE DATABASE … TEMPLATE`, about
    0.1 s), exported as `DATABASE_URL`; dropped at the end of the run."""
    with clone_database(server_url, applied_example.database) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        yield url


@pytest.fixture
def applied_project(request: pytest.FixtureRequest, applied_example: AppliedExample,
                    applied_database: str, tmp_path: Path) -> Path:
    """A private copy of the bundled example as planned and applied once per run, at
    `tmp_path/project`: the project files, all of `.reconciler/` (state, ledger, journal, the
    local Notion's store whatever its format) and its own database (`applied_database`). Mutate
    it freely: nothing is shared with the template or other tests."""
    clash = {"example_project", "example_database"} & set(request.fixturenames)
    if clash:
        pytest.fail(f"applied_project cannot be combined with {sorted(clash)} (a fresh, empty "
                    "project and database at the same place): use applied_database for its URL",
                    pytrace=False)
    return applied_example.copy_to(tmp_path / "project")


NOTION_ENVIRONMENT = ("NOTION_TOKEN", "NOTION_API_KEY", "NOTION_BASE_URL", "NOTION_PARENT_PAGE_ID")


def without_real_notion(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop every variable that could point the product at a real Notion."""
    for name in NOTION_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


#: Seconds a backtracking pattern may run in tests that trigger one on purpose (`quick_patterns`),
#: not `patterns.TIME_LIMIT` (1 s): the bound itself is tested in
#: tests/content/test_content_patterns.py.
PATTERN_LIMIT = 0.2


@pytest.fixture
def quick_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut a spec's backtracking pattern after `PATTERN_LIMIT` seconds rather than 1 s."""
    monkeypatch.setattr(patterns, "TIME_LIMIT", PATTERN_LIMIT)


@pytest.fixture(autouse=True)
def _no_real_notion(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach a real Notion: drop tokens and base URLs from the environment."""
    without_real_notion(monkeypatch)
