"""Contract tests: the reconciler's flows recorded against Notion as vcrpy cassettes
(`tests/cassettes/`), replayed by default. See docs/contract-tests.md.

`pytest tests/contract --record-notion -n 0` records instead of replaying:

* with `NOTION_TOKEN` (or `NOTION_API_KEY`) and `RECONCILER_CONTRACT_PARENT` (the id of a
  scratch page shared with the integration) set: against Notion (`NOTION_BASE_URL` or
  https://api.notion.com), at the default pace of 3 requests per second;
* with no token: against `reconciler local serve`, started here on a free port.

The environment is read once, when pytest starts: the suite's autouse fixture then removes
every Notion variable for each test (tests/conftest.py `_no_real_notion`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import notion_client
import pytest

from reconciler.backends.notion.client import token_from

from .flows import Target
from .scrub import Scrubber

_ENV = pytest.StashKey[dict]()
SERVE_TIMEOUT = 30.0  # seconds `local serve` may take to answer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--record-notion", action="store_true", default=False,
                     help="Record tests/cassettes/*.yaml instead of replaying them: against Notion "
                     "with NOTION_TOKEN and RECONCILER_CONTRACT_PARENT set, else against "
                     "`reconciler local serve` (docs/contract-tests.md).")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("record_notion", default=False) and config.getoption("numprocesses", default=0):
        # the flows record first and the scans read their cassettes later in the same run
        raise pytest.UsageError("--record-notion records in one process: add -n 0")
    config.stash[_ENV] = {k: v for k in ("NOTION_TOKEN", "NOTION_API_KEY", "NOTION_BASE_URL",
                                         "RECONCILER_CONTRACT_PARENT")
                          if (v := os.environ.get(k))}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """When recording, the flows run first, so the scan, the shapes and the comparison with the
    local Notion check the new cassettes in the same run."""
    if config.getoption("record_notion", default=False):
        items.sort(key=lambda item: item.path.name != "test_flows.py")


@dataclass(frozen=True)
class Recording:
    """How the flows are recorded: the `target` they run on, the token never to be written
    (`secret`), and the bot user and workspace (`me`, `GET /v1/users/me`) the scrubber must know
    before the first request names them."""

    target: Target
    secret: str | None = field(repr=False)
    me: dict = field(repr=False)

    @property
    def against_notion(self) -> bool:
        """False when recording against `local serve`."""
        return self.secret is not None

    def scrubber(self) -> Scrubber:
        scrubber = Scrubber(self.target.parent_page_id, secrets=[self.secret or ""])
        scrubber.learn(self.me)
        return scrubber


@pytest.fixture(scope="session")
def recording(request: pytest.FixtureRequest) -> Iterator[Recording | None]:
    """None when replaying (the default); else the recording set-up of `--record-notion`."""
    if not request.config.getoption("record_notion", default=False):
        yield None
        return
    env = request.config.stash[_ENV]
    token = token_from(env)
    if token is None:
        with local_serve(request.getfixturevalue("tmp_path_factory").mktemp("serve")) as url:
            yield _recording(url, "local-serve", None, {"NOTION_RATE_LIMIT": "1000"})
        return
    parent = env.get("RECONCILER_CONTRACT_PARENT")
    if not parent:
        pytest.fail("--record-notion with NOTION_TOKEN needs RECONCILER_CONTRACT_PARENT: the id of a "
                    "scratch page shared with the integration (docs/contract-tests.md)")
    yield _recording(env.get("NOTION_BASE_URL", "https://api.notion.com"), token, parent, {})


def _recording(base_url: str, token: str, parent: str | None, extra: dict[str, str]) -> Recording:
    client = notion_client.Client(auth=token, base_url=base_url)
    try:
        me = client.users.me()
        if parent is None:  # local serve: its workspace-level root page
            from reconciler.local import root_page_id
            parent = root_page_id(client)
    finally:
        client.close()
    env = {"NOTION_TOKEN": token, "NOTION_BASE_URL": base_url, **extra}
    return Recording(Target(env=env, parent_page_id=parent), None if token == "local-serve" else token, me)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class local_serve:
    """`reconciler local serve --dir DIR --port N` in a child process, on a free port, until the
    `with` block ends; yields its base URL. Raises RuntimeError when it does not answer within
    `SERVE_TIMEOUT` seconds."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        with open(self.directory / "serve.log", "wb") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(
                [sys.executable, "-m", "reconciler", "local", "serve", "--dir", str(self.directory),
                 "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + SERVE_TIMEOUT
        while True:
            try:
                httpx.get(f"{url}/v1/users/me", timeout=1.0,
                          headers={"Authorization": "Bearer local-serve", "Notion-Version": "2025-09-03"})
                return url
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError("reconciler local serve did not start") from None
                time.sleep(0.1)  # polling the child's port, not waiting for time to pass

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
