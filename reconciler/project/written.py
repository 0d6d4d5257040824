"""Dates and numbers as people write them, read under what the `source:` declares.

`Reading` holds the declarations (`languages`, `date_order`, `locale` of docs/content.md);
`read_date(text, reading)` and `read_number(text, reading)` turn text into the content normal
form or raise `ValueError` quoting the original text.

- Dates: ISO dates and date-times are taken as they are. Anything else goes to the dateparser
  package (maintained, 200+ languages) restricted to the declared languages (default English),
  with relative dates ("tomorrow") and partial dates ("October 2025", "29 Oct") refused so that
  a plan never depends on the day it is made. An all-numeric date (`03/04/2025`) is refused
  until `date_order` says which number is the day. A time of day gives a date-time
  (`2025-10-29T14:30:00`), else a date.
- Numbers: plain numbers (`42`, `-1.5e3`, `1_000`) as Python reads them; an optional unit
  before or after (`120 ms`, `$12`, `3.5 h`) is dropped, and `%` divides by 100 (`95%` → 0.95,
  what a Notion percent property stores). Grouped or decimal-comma numbers (`1 234,5`,
  `1.234,5`) need a declared `locale` and are read by Babel (CLDR data) strictly: `12,5` in
  English is refused rather than read as 125.
"""

from __future__ import annotations

import datetime as _dt
import calendar
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

_INT = re.compile(r"[+-]?\d+\Z")
_NUMBER = re.compile(r"(?P<pre>[^\d+\-−.,]{0,6}?)\s*(?P<num>[+\-−]?\d[\d\s\u00a0\u202f.,'’]*)"
                     r"\s*(?P<unit>[^\d\s][^\d]{0,14})?\Z")
_PLAIN = re.compile(r"[+-]?\d+(?:\.\d+)?\Z")
_LETTER = re.compile(r"[^\W\d_]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Longest text read as a date or a number with units: nothing people write is longer, and it
#: bounds the work of the parsers on hostile input.
MAX_WRITTEN = 100


def _quote(value: Any, limit: int = 80) -> str:
    """`repr(value)`, cut to `limit` characters for messages."""
    text = repr(value[:limit + 1] if isinstance(value, str) else value)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class Reading:
    """How a source writes dates and numbers (the `source:` keys of the same names).

    `languages`: dateparser language codes, in order of preference; `date_order`: "DMY", "MDY",
    "YMD" or None (undeclared); `locale`: a CLDR locale (`nb`, `de_CH`) or None (plain numbers).
    """

    languages: tuple[str, ...] = ("en",)
    date_order: str | None = None
    locale: str | None = None


DEFAULT = Reading()


def check_reading(languages: list[str] | None, locale: str | None) -> dict[str, str]:
    """Problems with declared `languages` / `locale`, by key: `{"languages": message}`."""
    problems = {}
    if languages is not None:
        from dateparser.languages.loader import LocaleDataLoader

        try:
            list(LocaleDataLoader().get_locale_map(languages=list(languages)))
        except ValueError as exc:
            problems["languages"] = f"languages: {exc} (codes as the dateparser package knows " \
                                    "them: en, nb, da, de, fr, …)"
    if locale is not None:
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(locale)
        except (UnknownLocaleError, ValueError) as exc:
            problems["locale"] = f"locale: {exc} (a CLDR locale such as nb, de, fr, en_US)"
    return problems


# --------------------------------------------------------------------------------------------
# dates


def _iso(text: str) -> str | None:
    """`text` when it is an ISO date or date-time Python reads, else None."""
    if not _ISO_DATE.match(text):
        return None
    try:
        (_dt.date if len(text) == 10 else _dt.datetime).fromisoformat(text.replace("Z", "+00:00"))
        return text
    except ValueError:
        return None


@lru_cache(maxsize=16)
def _date_parser(reading: Reading):
    from dateparser.date import DateDataParser

    settings: dict[str, Any] = {"PARSERS": ["custom-formats", "absolute-time"],
                                "REQUIRE_PARTS": ["day", "month", "year"],
                                "RETURN_TIME_AS_PERIOD": True, "STRICT_PARSING": True}
    if reading.date_order:
        settings |= {"DATE_ORDER": reading.date_order, "PREFER_LOCALE_DATE_ORDER": False}
    return DateDataParser(languages=list(reading.languages), settings=settings)


def read_date(value: Any, reading: Reading = DEFAULT) -> str:
    """A date as written → ISO `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS[±HH:MM]` when it has a time.

    Raises `ValueError` quoting `value` when it is not a date (see the module docstring)."""
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_WRITTEN:
        raise ValueError(f"expects a date, got {_quote(value)}")
    text = " ".join(value.split())
    iso = _iso(text)
    if iso is not None:
        return iso
    impossible = _impossible(text, reading)
    if impossible is not None:
        raise ValueError(f"expects a date, got {value!r}: not a date ({impossible})")
    if not _LETTER.search(text) and reading.date_order is None:
        raise ValueError(f"expects a date, got {value!r}: an all-numeric date is ambiguous; "
                         "declare date_order (DMY, MDY or YMD) in the source")
    named = named_month_date(text, reading.languages)
    if named is not None:
        return named
    found = _date_parser(reading).get_date_data(text)
    if (found is None or found.date_obj is None) and _ISO_DATE.match(text):
        raise ValueError(f"expects a date, got {value!r}: not a date (not ISO 8601: write "
                         "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM])")
    if found is None or found.date_obj is None:
        langs = ", ".join(reading.languages)
        raise ValueError(f"expects a date (ISO, or a full date written in {langs}), got "
                         f"{value!r}: declare its language in `languages:` or write YYYY-MM-DD")
    moment = found.date_obj
    if found.period == "time":
        return moment.replace(microsecond=0).isoformat()
    return moment.date().isoformat()


#: Three numbers of an all-numeric date (`30/02/2025`, `2025.02.30`).
_NUMERIC = re.compile(r"(\d{1,4})[-./ ](\d{1,2})[-./ ](\d{1,4})\Z")


def _impossible(text: str, reading: Reading) -> str | None:
    """Why `text`, written as a date whose parts are all known, is no date (`no such day:
    February 2025 has 28 days`), or None when it is not such a text or is a real date: an
    ISO `2025-02-30` (a text starting like an ISO date that Python's `fromisoformat`
    refuses but whose day exists, `2025-10-28 10:00 AM`, is left to dateparser); a numeric date under the declared `date_order`; a named
    month in a declared language (`31. Februar 2025`)."""
    if _ISO_DATE.match(text):
        found = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
        return _day_problem(*(int(g) for g in found.groups()))  # else dateparser reads it
    numeric = _NUMERIC.match(text)
    if numeric and reading.date_order:
        parts = dict(zip(reading.date_order, (int(g) for g in numeric.groups())))
        if parts["Y"] >= 1000:
            return _day_problem(parts["Y"], parts["M"], parts["D"])
        return None
    named = _NAMED_MONTH.match(text)
    if named is None:
        return None
    word = (named.group("m1") or named.group("m2")).lower()
    months = {names.get(word) for names in map(_month_names, reading.languages)
              if names is not None} - {None}
    if len(months) != 1:
        return None
    return _day_problem(int(named.group("y")), months.pop(), int(named.group("d1") or
                                                                 named.group("d2")))


def _day_problem(year: int, month: int, day: int) -> str | None:
    """`no such month: 13` / `no such day: February 2025 has 28 days`, or None for a real date."""
    if not 1 <= month <= 12:
        return f"no such month: {month}"
    last = calendar.monthrange(year, month)[1] if year >= 1 else 31
    if not 1 <= day <= last:
        return f"no such day: {calendar.month_name[month]} {year} has {last} days"
    return None


#: `28. oktober 2025`, `28 Oct 2025`, `Oct 29, 2025`, `October 29 2025`: a full date whose month
#: is a word, nothing else (no weekday, no ordinal suffix, no time).
_NAMED_MONTH = re.compile(r"(?:(?P<d1>\d{1,2})\.? (?P<m1>[^\W\d_]+)\.?"
                          r"|(?P<m2>[^\W\d_]+)\.? (?P<d2>\d{1,2}),?) (?P<y>\d{4})\Z")


@lru_cache(maxsize=64)
def _month_names(language: str) -> dict[str, int] | None:
    """Lower-case month name → month number in `language` (CLDR's wide and abbreviated names,
    in both contexts, without a trailing `.`), from Babel; None when Babel has no such locale."""
    from babel import Locale, UnknownLocaleError
    from babel.dates import get_month_names

    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None
    names: dict[str, int] = {}
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            for month, name in get_month_names(width, context, locale).items():
                names.setdefault(name.lower().rstrip("."), month)
    return names


def named_month_date(text: str, languages: tuple[str, ...]) -> str | None:
    """The ISO date of a full date written with its month as a word (`28. oktober 2025`,
    `Oct 29, 2025`) in one of `languages`, or None to leave it to dateparser: anything else,
    a month name the languages read as different months, a day the month does not have.

    What dateparser reads these as, without its start-up (loading its language data and
    compiling its time-zone patterns costs a quarter of a second, more than a `validate`
    of the bundled example: issue 15 point 1); a test holds the two to the same answers."""
    found = _NAMED_MONTH.match(text)
    if found is None:
        return None
    word = (found.group("m1") or found.group("m2")).lower()
    day = int(found.group("d1") or found.group("d2"))
    months = {names.get(word) for names in map(_month_names, languages) if names is not None}
    months.discard(None)
    if len(months) != 1:
        return None
    try:
        return _dt.date(int(found.group("y")), months.pop(), day).isoformat()
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# numbers


def _decimal(text: str, reading: Reading, original: Any) -> Decimal:
    if _PLAIN.match(text):
        return Decimal(text)
    if reading.locale is None:
        raise ValueError(f"expects a number, got {original!r}: grouped or decimal-comma numbers "
                         "need the source's `locale:` (nb, de, fr, en, …)")
    from babel.numbers import NumberFormatError, get_group_symbol, parse_decimal

    group = get_group_symbol(reading.locale)
    candidates = [text, text.replace("−", "-")]
    if group.isspace():
        candidates.append(candidates[-1].replace(" ", group))
    for candidate in candidates:
        try:
            return parse_decimal(candidate, locale=reading.locale, strict=True)
        except NumberFormatError:
            continue
    raise ValueError(f"expects a number written in locale {reading.locale}, got {original!r}")


def read_number(value: Any, reading: Reading = DEFAULT) -> int | float | None:
    """A number as written → int (no decimals) or float; `None`/`""` → None.

    Raises `ValueError` quoting `value` when it is not a number (see the module docstring)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expects a number, got {_quote(value)}")
    if not isinstance(value, str):
        return value
    text = value.strip().replace("_", "")
    try:
        return int(text) if _INT.match(text) else float(text)
    except ValueError:
        pass
    m = _NUMBER.match(text) if len(text) <= MAX_WRITTEN else None
    if m is None or (m["pre"] and _LETTER.search(m["pre"]) and m["unit"]):
        raise ValueError(f"expects a number, got {_quote(value)}")
    number = _decimal(m["num"].strip(), reading, value)
    if (m["unit"] or "").strip() == "%":
        return float(number / 100)
    return int(number) if number == number.to_integral_value() and \
        number.as_tuple().exponent >= 0 else float(number)
