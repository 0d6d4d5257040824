"""Full dates written with a month name are read without dateparser's start-up, and read
exactly as dateparser reads them (issue 15 point 1: `validate` of the bundled example)."""

from __future__ import annotations

import pytest
from babel import Locale
from babel.dates import get_month_names

from reconciler.project.written import Reading, _date_parser, named_month_date, read_date

LANGUAGES = ("en", "nb", "da", "sv", "de", "fr", "nl", "es", "it", "pt", "fi", "pl")


def _dateparser(text: str, languages: tuple[str, ...]) -> str | None:
    found = _date_parser(Reading(languages=languages)).get_date_data(text)
    return found.date_obj.date().isoformat() if found and found.date_obj else None


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_month_name_reads_as_dateparser_reads_it(language):
    """Where the fast path answers, dateparser gives the same date; every shape it reads.
    dateparser (about 2 ms a call) reads each name in each shape on one of the three days, a
    different one from month to month."""
    locale = Locale.parse(language)
    answered = 0
    for width in ("wide", "abbreviated"):
        for month, name in get_month_names(width, "format", locale).items():
            for day in (1, 9, 28):
                for text in (f"{day} {name} 2025", f"{day}. {name} 2025", f"{name} {day}, 2025"):
                    text = " ".join(text.split())
                    fast = named_month_date(text, (language,))
                    if fast is not None:
                        answered += 1
                        assert fast == f"2025-{month:02d}-{day:02d}", text
                        if day == (1, 9, 28)[month % 3]:
                            assert _dateparser(text, (language,)) == fast, text
    assert answered >= 12 * 3 * 3  # at least every wide name in every shape


@pytest.mark.parametrize("text", ["Tuesday 28 October 2025", "28th October 2025", "31 Feb 2025",
                                  "October 2025", "28 October", "28 October 2025 14:30",
                                  "28/10/2025", "Octobre 28 2025x"])
def test_anything_else_is_left_to_dateparser(text):
    assert named_month_date(text, ("en",)) is None


def test_a_name_two_languages_read_differently_is_left_to_dateparser():
    # nothing in the declared languages may disagree; one language that knows it is enough
    assert named_month_date("28. oktober 2025", ("nb", "en")) == "2025-10-28"
    assert named_month_date("28. oktober 2025", ("en",)) is None


def test_read_date_gives_the_same_answers_as_before():
    mixed = Reading(languages=("nb", "en"))
    assert read_date("28. oktober 2025", mixed) == "2025-10-28"
    assert read_date("Oct 29, 2025", mixed) == "2025-10-29"
    with pytest.raises(ValueError, match="expects a date"):
        read_date("31. februar 2025", mixed)
