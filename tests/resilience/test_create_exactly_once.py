"""create_exactly_once: a create that may have committed is looked up, never sent twice blindly."""

import pytest

from reconciler.backends.notion.resilience import MaybeCommittedError, create_exactly_once


def test_found_after_a_maybe_committed_create_is_not_created_again():
    sent = []

    def create():
        sent.append(1)
        raise MaybeCommittedError("POST", "/v1/pages", 503)

    assert create_exactly_once(create, lambda: {"id": "p1"}) == {"id": "p1"}
    assert len(sent) == 1


def test_repeated_failures_that_left_nothing_are_retried_then_reported():
    answers = iter([MaybeCommittedError("POST", "/v1/pages", 500),
                    MaybeCommittedError("POST", "/v1/pages", 504), {"id": "p2"}])

    def create():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert create_exactly_once(create, lambda: None) == {"id": "p2"}
    with pytest.raises(MaybeCommittedError):
        create_exactly_once(lambda: (_ for _ in ()).throw(
            MaybeCommittedError("POST", "/v1/pages", 500)), lambda: None, attempts=3)
