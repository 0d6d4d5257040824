"""Retries through the real notion-client against the local Notion with injected faults."""

from __future__ import annotations

import email.utils
import logging
import random

import httpx
import notion_client
import pytest
from notion_client import APIResponseError, Client

from reconciler.backends.notion.client import open_notion
from reconciler.backends.notion.resilience import (MaybeCommittedError, ResilientTransport, RetryPolicy,
                                                   is_idempotent, retry_after_seconds)
from reconciler.errors import ReconcilerError
from reconciler.local import LocalNotion, make_server, root_page_id
from reconciler.local.faults import FaultMiddleware, Faults
from tests.conftest import serving

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.mark.parametrize("spec, causes", [
    ("429=0.5,retry_after=0,seed=3", {429}),
    ("5xx=0.5,seed=3", {500, 502, 503, 504}),
    ("529=0.5,retry_after=0,seed=3", {529}),
    ("409=0.5,seed=3", {409}),
    ("drop=0.5,seed=3", {"connection"}),
])
def test_each_fault_kind_is_retried_and_calls_succeed(open_faulty, project, spec, causes):
    target = open_faulty(spec, max_attempts=30)
    ds = project["data_source"]
    for _ in range(6):
        assert target.client.data_sources.retrieve(ds)["id"] == ds            # GET
        assert target.client.data_sources.query(ds)["object"] == "list"       # read-only POST
        target.client.databases.update(project["database"], title=[        # PATCH
            {"type": "text", "text": {"content": "Items"}}])
    stats = target.stats
    assert stats.requests == 18
    assert set(stats.retries) <= causes and stats.total_retries > 0
    assert stats.attempts == stats.requests + stats.total_retries
    assert stats.gave_up == 0 and stats.maybe_committed == 0


def test_retry_after_is_honoured_in_full_above_60_seconds(open_faulty, project, clock):
    target = open_faulty("429=0.5,retry_after=90,seed=3", max_attempts=30)
    for _ in range(5):
        target.client.data_sources.retrieve(project["data_source"])
    n = target.stats.retries[429]
    assert n > 0
    retry_waits = [s for s in clock.sleeps if s >= 1]
    assert retry_waits.count(90.0) == n
    assert target.stats.wait_seconds == pytest.approx(90.0 * n)
    # the bucket was paused for the Retry-After too: no request started during a pause
    assert clock.now - 1000.0 >= 90.0 * n


def test_retry_after_cap_is_configurable(open_faulty, project, clock):
    target = open_faulty("529=0.5,retry_after=90,seed=3", max_attempts=30, retry_after_cap=7)
    for _ in range(5):
        target.client.data_sources.retrieve(project["data_source"])
    assert target.stats.retries[529] > 0
    assert max(clock.sleeps) == 7.0


def test_backoff_without_retry_after_is_full_jitter(open_faulty, project, clock):
    target = open_faulty("5xx=0.6,seed=5", max_attempts=30, base_delay=0.5, max_delay=4)
    for _ in range(10):
        target.client.data_sources.retrieve(project["data_source"])
    waits = [s for s in clock.sleeps if s > 0]
    assert waits and all(0 <= s <= 4 for s in waits)


def test_gives_up_after_max_attempts_with_notion_clients_error(open_faulty, project):
    target = open_faulty("429=1,retry_after=1", max_attempts=4)
    with pytest.raises(APIResponseError) as err:
        target.client.data_sources.retrieve(project["data_source"])
    assert err.value.status == 429 and err.value.code == "rate_limited"
    assert target.stats.attempts == 4 and target.stats.gave_up == 1


def test_gives_up_when_the_time_budget_is_spent(open_faulty, project, clock):
    target = open_faulty("429=1,retry_after=10", max_attempts=100, budget=25)
    with pytest.raises(APIResponseError):
        target.client.data_sources.retrieve(project["data_source"])
    assert target.stats.attempts == 3          # waits 10 + 10; a third wait would end at 30 > 25
    assert clock.now - 1000.0 <= 25


def test_blocked_429_is_never_retried(open_faulty, project):
    target = open_faulty("blocked=1")
    with pytest.raises(APIResponseError) as err:
        target.client.data_sources.retrieve(project["data_source"])
    assert err.value.status == 429
    assert err.value.additional_data["rate_limit_reason"] == "public_api_request_blocked"
    assert target.stats.attempts == 1 and target.stats.total_retries == 0


def test_commit_then_503_on_create_raises_maybe_committed_and_the_page_exists(tmp_path, open_faulty, project,
                                                                             rows):
    target = open_faulty("commit503=1")
    ds = project["data_source"]
    with pytest.raises(MaybeCommittedError) as err:
        target.client.pages.create(**rows.new(ds, "key-1"))
    e = err.value
    assert isinstance(e, ReconcilerError)
    assert (e.method, e.path, e.status) == ("POST", "/v1/pages", 503)
    assert e.committed_id
    assert target.stats.attempts == 1 and target.stats.maybe_committed == 1
    # the caller's key check finds it (through a clean client on the same project)
    clean = open_notion(tmp_path, {})
    found = rows.titled(clean.client, ds, "key-1")
    assert [p["id"] for p in found] == [e.committed_id]
    clean.client.close()


@pytest.mark.parametrize("spec, status", [("5xx=1,seed=1", {500, 502, 503, 504}), ("drop=1", {None})])
def test_creates_that_may_have_committed_are_not_retried(open_faulty, project, rows, spec, status):
    target = open_faulty(spec)
    with pytest.raises(MaybeCommittedError) as err:
        target.client.pages.create(**rows.new(project["data_source"], "key-2"))
    assert err.value.status in status
    assert target.stats.attempts == 1


def test_dropped_create_was_performed(tmp_path, project, rows, open_faulty):
    target = open_faulty("drop=1")
    with pytest.raises(MaybeCommittedError):
        target.client.pages.create(**rows.new(project["data_source"], "key-3"))
    clean = open_notion(tmp_path, {})
    assert len(rows.titled(clean.client, project["data_source"], "key-3")) == 1


@pytest.mark.parametrize("spec", ["429=0.6,retry_after=0,seed=2", "529=0.6,retry_after=0,seed=2",
                                  "409=0.6,seed=2"])
def test_refused_creates_are_retried_and_create_once(open_faulty, project, rows, spec):
    target = open_faulty(spec, max_attempts=30)
    ds = project["data_source"]
    for i in range(4):
        target.client.pages.create(**rows.new(ds, f"once-{i}"))
    assert target.stats.total_retries > 0 and target.stats.maybe_committed == 0
    for i in range(4):
        assert len(rows.titled(target.client, ds, f"once-{i}")) == 1


def test_commit_503_on_patch_is_retried(open_faulty, project):
    target = open_faulty("commit503=0.5,seed=4", max_attempts=30)
    for i in range(6):
        target.client.databases.update(project["database"], title=[{"type": "text", "text": {"content": f"T{i}"}}])
    assert target.stats.retries.get(503, 0) > 0
    got = target.client.databases.retrieve(project["database"])
    assert got["title"][0]["plain_text"] == "T5"


def test_error_bodies_have_notions_shape(tmp_path):
    for faults, status, code in [(Faults(rate_429=1, retry_after=2), 429, "rate_limited"),
                                 (Faults(rate_529=1, retry_after=2), 529, "service_overload"),
                                 (Faults(rate_409=1), 409, "conflict_error")]:
        app = FaultMiddleware(LocalNotion(tmp_path), faults)
        http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://x")
        r = http.get("/v1/users/me", headers={"Authorization": "Bearer t", "Notion-Version": "2025-09-03"})
        body = r.json()
        assert r.status_code == status
        assert body["object"] == "error" and body["status"] == status and body["code"] == code
        assert body["message"] and body["request_id"]
        if status in (429, 529):
            assert r.headers["retry-after"] == "2" and body["additional_data"]["retry_after"] == "2"


def test_latency_is_injected_with_a_seeded_rng(tmp_path):
    def run() -> list[float]:
        slept: list[float] = []
        app = FaultMiddleware(LocalNotion(tmp_path), Faults(latency_ms=(50, 200), seed=7), sleep=slept.append)
        client = Client(auth="t", base_url="http://x", retry=False,
                        client=httpx.Client(transport=httpx.WSGITransport(app=app)), logger=logging.getLogger("t"))
        for _ in range(5):
            client.users.me()
        return slept

    first = run()
    assert len(first) == 5 and all(0.05 <= s <= 0.2 for s in first)
    assert run() == first


def test_drop_over_real_http_closes_the_socket_and_is_retried(tmp_path, clock):
    with serving(make_server(tmp_path, "127.0.0.1", 0, faults=Faults(drop=0.5, seed=3))) as url:
        transport = ResilientTransport(httpx.HTTPTransport(), policy=RetryPolicy(max_attempts=30),
                                       clock=clock, sleep=clock.sleep, rng=random.Random(0))
        client = Client(auth="t", base_url=url, retry=False,
                        client=httpx.Client(transport=transport), logger=logging.getLogger("t"))
        for _ in range(6):
            assert root_page_id(client)
        assert transport.stats.retries["connection"] > 0
        client.close()


def test_token_never_appears_in_logs_or_errors(tmp_path, caplog, clock, project, rows):
    server = make_server(tmp_path / ".reconciler" / "notion", "127.0.0.1", 0,
                         faults=Faults(rate_429=0.3, rate_5xx=0.3, drop=0.1, retry_after=0, seed=9))
    secret = "secret_DoNotLeak123"
    caplog.set_level(logging.DEBUG)
    with serving(server) as url:
        target = open_notion(tmp_path, {"NOTION_TOKEN": secret, "NOTION_BASE_URL": url},
                             policy=RetryPolicy(max_attempts=30), clock=clock, sleep=clock.sleep)
        messages = []
        for i in range(8):
            try:
                target.client.pages.create(**rows.new(project["data_source"], f"s{i}"))
            except (MaybeCommittedError, notion_client.errors.APIResponseError,
                    notion_client.errors.UnknownHTTPResponseError) as err:
                messages.append(f"{err!s} {err!r}")
        assert target.stats.total_retries + target.stats.maybe_committed > 0
        assert secret not in caplog.text and all(secret not in m for m in messages)
        target.client.close()


def test_is_idempotent():
    assert is_idempotent("GET", "/v1/pages/abc")
    assert is_idempotent("DELETE", "/v1/blocks/abc")
    assert is_idempotent("PATCH", "/v1/pages/abc")
    assert is_idempotent("POST", "/v1/search")
    assert is_idempotent("POST", "/v1/data_sources/abc/query")
    assert not is_idempotent("POST", "/v1/pages")
    assert not is_idempotent("POST", "/v1/databases")
    assert not is_idempotent("POST", "/v1/data_sources")
    assert not is_idempotent("PATCH", "/v1/blocks/abc/children")


def test_retry_after_parsing():
    assert retry_after_seconds({"retry-after": "120"}) == 120
    assert retry_after_seconds({}, {"additional_data": {"retry_after": "75"}}) == 75
    assert retry_after_seconds({"retry-after": "3"}, {"additional_data": {"retry_after": "5"}}) == 5
    assert retry_after_seconds({}) is None and retry_after_seconds({"retry-after": "soon"}) is None
    date = email.utils.formatdate(1_000_090, usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=1_000_000) == pytest.approx(90)
    assert retry_after_seconds({"retry-after": date}, now=2_000_000) == 0
