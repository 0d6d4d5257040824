"""Progress on a terminal: read counts on a status line, each retry as a line that stays,
nothing at all off a terminal; retries say what they wait for; an unreachable server is not
retried."""

from __future__ import annotations

import io
import logging
import socket

import httpx
import pytest
from rich.console import Console

from reconciler.backends.notion.resilience import ResilientTransport, RetryPolicy, is_unreachable
from reconciler.cli.progress import screen
from reconciler.progress import report


def terminal() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=120, color_system=None), buffer


def test_a_terminal_shows_counts_and_keeps_each_retry_line():
    console, buffer = terminal()
    with screen(console) as shown:
        report("Reading notion.%s", "tasks", counts={"data sources": 1})
        report("Reading rows", counts={"rows": 100})
        report("Reading rows", counts={"rows": 40})
        logging.getLogger("reconciler.notion.retry").info(
            "%s, retry %d/%d in %s s (%s %s)", "rate limited", 2, 7, "3.0", "GET", "/v1/x")
        assert shown.doing == "Reading rows"
        assert shown.counts == {"data sources": 1, "rows": 140}
        shown.bar(3)
        shown.advance("notion.tasks")
    text = buffer.getvalue()
    assert "rate limited, retry 2/7 in 3.0 s (GET /v1/x)" in text
    assert "Reading notion.tasks · read data sources: 1" in text


def test_off_a_terminal_nothing_is_shown_or_listened_to():
    buffer = io.StringIO()
    with screen(Console(file=buffer, force_terminal=False)) as shown:
        report("Reading notion.%s", "tasks", counts={"data sources": 1})
        shown.bar(3)
        shown.advance()
    assert buffer.getvalue() == "" and not shown.active
    assert not logging.getLogger("reconciler.progress").handlers


def test_each_retry_is_logged_with_its_cause_count_and_wait(caplog: pytest.LogCaptureFixture):
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}, json={"code": "rate_limited"}),
                    httpx.Response(200, json={"ok": True})])
    waits: list[float] = []
    transport = ResilientTransport(httpx.MockTransport(lambda request: next(answers)),
                                   policy=RetryPolicy(max_attempts=7), sleep=waits.append)
    caplog.set_level(logging.INFO, logger="reconciler.notion.retry")
    with httpx.Client(transport=transport) as client:
        assert client.get("https://notion.test/v1/users/me").status_code == 200
    assert caplog.messages == ["rate limited, retry 1/6 in 3.0 s (GET /v1/users/me)"]
    assert waits == [3.0]


def _raised_from(cause: BaseException) -> httpx.ConnectError:
    try:
        try:
            raise cause
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
    except httpx.ConnectError as error:
        return error


@pytest.mark.parametrize(("cause", "unreachable"), [
    (ConnectionRefusedError(111, "Connection refused"), True),
    (socket.gaierror(-2, "Name or service not known"), True),
    (ConnectionResetError(104, "Connection reset by peer"), False),
    (TimeoutError("timed out"), False),
])
def test_refused_and_unresolvable_are_not_retried(cause, unreachable):
    error = _raised_from(cause)
    assert is_unreachable(error) is unreachable
    attempts = []

    def handler(request):
        attempts.append(request)
        raise error

    transport = ResilientTransport(httpx.MockTransport(handler), sleep=lambda s: None,
                                   policy=RetryPolicy(max_attempts=3))
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError):
        client.get("https://notion.test/v1/users/me")
    assert len(attempts) == (1 if unreachable else 3)
