"""The pure rules: slugs, reading time, listing pages, count lines, card dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from masthead.domain.dates import card_date, parse_moment, parse_publish_date
from masthead.domain.listing import (
    PageOutOfRange,
    author_count_line,
    paginate,
    tag_count_line,
)
from masthead.domain.reading import count_words, reading_minutes
from masthead.domain.slugs import MAX_SLUG_LENGTH, is_valid_slug, slugify, unique_slug
from masthead.domain.staff import StaffKind, StaffMember


@pytest.mark.parametrize(
    ("total", "pages", "last_page_size"),
    [(0, 1, 0), (1, 1, 1), (9, 1, 9), (10, 2, 1), (18, 2, 9), (19, 3, 1)],
)
def test_listing_splits_posts_into_pages_of_nine(
    total: int, pages: int, last_page_size: int
) -> None:
    first = paginate(total, 1, 9)
    assert first.total_pages == pages
    last = paginate(total, pages, 9)
    assert min(9, total - last.offset) == last_page_size
    assert not first.has_previous
    assert last.has_next is False
    assert first.has_next is (pages > 1)


@pytest.mark.parametrize(("total", "page"), [(0, 2), (9, 2), (10, 3), (19, 4), (5, 0), (5, -1)])
def test_a_page_past_the_end_or_below_one_is_out_of_range(total: int, page: int) -> None:
    with pytest.raises(PageOutOfRange):
        paginate(total, page, 9)


def test_page_offsets_follow_the_page_size() -> None:
    assert [paginate(19, page, 9).offset for page in (1, 2, 3)] == [0, 9, 18]
    assert paginate(19, 2, 5).offset == 5


@pytest.mark.parametrize(
    ("count", "line"),
    [
        (0, "0 posts found in Operations"),
        (1, "1 post found in Operations"),
        (2, "2 posts found in Operations"),
        (10, "10 posts found in Operations"),
    ],
)
def test_tag_count_line_is_singular_only_for_one(count: int, line: str) -> None:
    assert tag_count_line(count, "Operations") == line


def test_author_count_line_names_the_author() -> None:
    assert author_count_line(1, "Ledger") == "1 post by Ledger"
    assert author_count_line(3, "Ledger") == "3 posts by Ledger"


@pytest.mark.parametrize(
    ("words", "minutes"), [(0, 1), (1, 1), (229, 1), (230, 1), (231, 2), (460, 2), (461, 3)]
)
def test_reading_time_is_words_over_230_rounded_up_at_least_one(words: int, minutes: int) -> None:
    assert reading_minutes(words) == minutes


def test_word_count_counts_words_not_punctuation() -> None:
    assert count_words("Hello, world — it's 2026. x = 1 + 2") == 7
    assert count_words("") == 0


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello World", "hello-world"),
        ("  Gates before publish!  ", "gates-before-publish"),
        ("Crème brûlée à la carte", "creme-brulee-a-la-carte"),
        ("Über straße", "uber-strasse"),
        ("Привет мир", "privet-mir"),
        ("東京", "dongjing"),
        ("C++ & Rust: 2 languages", "c-rust-2-languages"),
        ("---", "post"),
        ("", "post"),
    ],
)
def test_slugs_are_ascii_transliterations(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_long_titles_make_slugs_cut_at_a_word() -> None:
    slug = slugify("word " * 40)
    assert len(slug) <= MAX_SLUG_LENGTH
    assert not slug.endswith("-")
    assert slug.split("-") == ["word"] * len(slug.split("-"))


def test_slug_collisions_get_a_number() -> None:
    assert unique_slug("post", set()) == "post"
    assert unique_slug("post", {"post"}) == "post-2"
    assert unique_slug("post", {"post", "post-2", "post-3"}) == "post-4"


@given(st.text(max_size=200))
def test_every_slug_is_valid(text: str) -> None:
    assert is_valid_slug(slugify(text))


@pytest.mark.parametrize("value", ["Hello", "a--b", "-a", "a-", "a b", "ä", ""])
def test_invalid_slugs_are_refused(value: str) -> None:
    assert not is_valid_slug(value)


def test_card_date_uses_the_site_time_zone() -> None:
    moment = datetime(2026, 3, 7, 23, 30, tzinfo=UTC)
    assert card_date(moment, ZoneInfo("UTC")) == "Mar 7, 2026"
    assert card_date(moment, ZoneInfo("Asia/Tokyo")) == "Mar 8, 2026"
    assert card_date(moment, ZoneInfo("America/New_York")) == "Mar 7, 2026"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 1, 5), datetime(2026, 1, 5, tzinfo=UTC)),
        ("2026-01-05", datetime(2026, 1, 5, tzinfo=UTC)),
        ("2026-01-05T10:30:00Z", datetime(2026, 1, 5, 10, 30, tzinfo=UTC)),
        ("2026-01-05T10:30:00+02:00", datetime(2026, 1, 5, 8, 30, tzinfo=UTC)),
        (
            datetime(2026, 1, 5, 10, 30, tzinfo=timezone(timedelta(hours=-5))),
            datetime(2026, 1, 5, 15, 30, tzinfo=UTC),
        ),
    ],
)
def test_publish_dates_are_dates_or_iso_datetimes_in_utc(value: object, expected: datetime) -> None:
    assert parse_publish_date(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "", 42, None, "05/01/2026"])
def test_bad_publish_dates_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_publish_date(value)


def test_byline_joins_role_title_and_department() -> None:
    member = StaffMember("a", "A", "Platform Engineer", "Engineering", StaffKind.PERSON)
    assert member.byline == "Platform Engineer · Engineering"
    assert StaffMember("b", "B", "", "Editorial", StaffKind.AGENT).byline == "Editorial"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T09:30:00Z", datetime(2026, 1, 1, 9, 30, tzinfo=UTC)),
        ("2026-01-01T10:30+01:00", datetime(2026, 1, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_a_typed_moment_is_a_date_or_a_time_with_its_zone(text: str, expected: datetime) -> None:
    moment = parse_moment(text)
    assert (moment, moment.tzinfo) == (expected, UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-01-01T09:30:00", "has no time zone"),
        ("2026-02-30", "is not a date"),
        ("2026-13-01T00:00:00Z", "is not a date"),
        ("soon", "is not a date"),
    ],
)
def test_a_typed_moment_without_a_zone_or_date_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_moment(text)
