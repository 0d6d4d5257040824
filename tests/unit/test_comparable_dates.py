"""Regression: Notion answers dates to the minute with the zone folded into an offset, so
`comparable` must compare date values as instants (found by tests/e2e/test_value_roundtrip.py)."""

from reconciler.diff.content import comparable


def test_a_zoned_date_time_with_seconds_equals_notions_answer():
    # REC:UN/test_query/test_date_query.yaml: sent, then read back
    sent = {"start": "2026-06-27T06:57:51.462999", "time_zone": "Europe/London"}
    read = {"start": "2026-06-27T06:57:00.000+01:00"}
    assert comparable("date", sent) == comparable("date", read)


def test_utc_zone_naive_time_offset_and_z_are_one_instant():
    forms = [{"start": "2024-11-25T14:08:00", "time_zone": "UTC"},
             {"start": "2024-11-25T14:08:00.000+00:00"}, {"start": "2024-11-25T14:08Z"},
             {"start": "2024-11-25T15:08:30+01:00"}, {"start": "2024-11-25T14:08:00"}]
    assert len({str(comparable("date", f)) for f in forms}) == 1


def test_different_minutes_and_plain_dates_stay_different():
    assert comparable("date", {"start": "2024-11-25T14:08"}) != \
        comparable("date", {"start": "2024-11-25T14:09"})
    assert comparable("date", {"start": "2024-11-25"}) == {"start": "2024-11-25"}
    assert comparable("date", {"start": "2024-11-25", "end": "2024-11-26"}) != \
        comparable("date", {"start": "2024-11-25"})
