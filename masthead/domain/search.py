"""Search queries: a reader's text made safe for each database, and the words it marks.

Whatever a reader types is read as words. `"two words"` asks for a phrase and `word*`
for every word starting with `word`; everything else that is not a letter or a digit
(operators, parentheses, `NEAR`, control characters, stray quotes) only separates
words, so no input can make a query the database refuses. Every clause must match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "MAX_CLAUSES",
    "MAX_QUERY_CHARS",
    "MAX_WORD_CHARS",
    "Clause",
    "SearchQuery",
    "Segment",
    "excerpt",
    "fts5_match",
    "has_match",
    "mark",
    "parse_query",
    "query_echo",
    "tsquery",
]

MAX_QUERY_CHARS = 1_000
"""Only the start of a longer text is read (a 10,000-character query is still answered)."""
MAX_CLAUSES = 12
MAX_PHRASE_WORDS = 8
MAX_WORD_CHARS = 64
MIN_PREFIX_CHARS = 2
ECHO_CHARS = 80
EXCERPT_WORDS = 28

_WORD = re.compile(r"[^\W_]+")
_WORD_OR_PREFIX = re.compile(r"([^\W_]+)(\*?)")
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'})
_SUFFIXES = ("ing", "ed", "s")


@dataclass(frozen=True)
class Clause:
    """One word, or a phrase's words in order; `prefix`: the word is a word's beginning."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class SearchQuery:
    clauses: tuple[Clause, ...]

    @property
    def empty(self) -> bool:
        return not self.clauses


@dataclass(frozen=True)
class Segment:
    """A run of text, and whether it is a matched word (shown in `<mark>`)."""

    text: str
    marked: bool = False


def _words(text: str) -> list[str]:
    return [word[:MAX_WORD_CHARS] for word in _WORD.findall(text.lower())]


def _quoted_parts(text: str) -> list[str]:
    """Text split at double quotes: odd parts were quoted. An unclosed quote quotes nothing."""
    parts = text.translate(_QUOTES).split('"')
    if len(parts) % 2 == 0:
        parts[-2:] = [parts[-2] + " " + parts[-1]]
    return parts


def _loose(part: str) -> list[Clause]:
    clauses = []
    for word, star in _WORD_OR_PREFIX.findall(part.lower()):
        word = word[:MAX_WORD_CHARS]
        clauses.append(Clause((word,), prefix=bool(star) and len(word) >= MIN_PREFIX_CHARS))
    return clauses


def parse_query(text: str) -> SearchQuery:
    """The clauses of a reader's text, at most `MAX_CLAUSES`, each once, in order."""
    clauses: list[Clause] = []
    for index, part in enumerate(_quoted_parts(text[:MAX_QUERY_CHARS])):
        if index % 2 == 0:
            clauses += _loose(part)
        elif words := _words(part)[:MAX_PHRASE_WORDS]:
            clauses.append(Clause(tuple(words)))
    unique = tuple(dict.fromkeys(clauses))
    return SearchQuery(unique[:MAX_CLAUSES])


def fts5_match(query: SearchQuery) -> str:
    """The query in SQLite FTS5's syntax: every word a quoted string, clauses ANDed."""

    def clause(item: Clause) -> str:
        quoted = '"' + " ".join(item.words) + '"'
        return quoted + "*" if item.prefix else quoted

    return " AND ".join(clause(item) for item in query.clauses)


def tsquery(query: SearchQuery) -> str:
    """The query in PostgreSQL's `to_tsquery` syntax: quoted lexemes, `<->` for a phrase."""

    def clause(item: Clause) -> str:
        lexemes = [f"'{word}'" for word in item.words]
        if item.prefix:
            lexemes[-1] += ":*"
        joined = " <-> ".join(lexemes)
        return f"({joined})" if len(lexemes) > 1 else joined

    return " & ".join(clause(item) for item in query.clauses)


def query_echo(text: str) -> str:
    """The reader's text as a page repeats it: one line, printable, at most `ECHO_CHARS`."""
    printable = "".join(
        " " if unicodedata.category(char)[0] in "CZ" else char for char in text[:MAX_QUERY_CHARS]
    )
    line = " ".join(printable.split())
    return line if len(line) <= ECHO_CHARS else line[: ECHO_CHARS - 1].rstrip() + "…"


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _matcher(query: SearchQuery) -> re.Pattern[str] | None:
    """Words to mark: those that begin with a clause's word, or its rough stem (the
    database stems words; this only has to agree with it most of the time)."""
    starts: set[str] = set()
    for item in query.clauses:
        for position, word in enumerate(item.words):
            last = position == len(item.words) - 1
            starts.add(word if item.prefix and last else _stem(word))
    if not starts:
        return None
    alternatives = "|".join(re.escape(start) for start in sorted(starts, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*", re.IGNORECASE)


def mark(text: str, query: SearchQuery) -> tuple[Segment, ...]:
    """`text` cut into segments, each matched word its own marked segment."""
    matcher = _matcher(query)
    if matcher is None:
        return (Segment(text),) if text else ()
    segments: list[Segment] = []
    plain_from = 0
    for found in matcher.finditer(text):
        if found.start() > plain_from:
            segments.append(Segment(text[plain_from : found.start()]))
        segments.append(Segment(found.group(), marked=True))
        plain_from = found.end()
    if plain_from < len(text):
        segments.append(Segment(text[plain_from:]))
    return tuple(segments)


def has_match(segments: tuple[Segment, ...]) -> bool:
    return any(segment.marked for segment in segments)


def excerpt(text: str, query: SearchQuery, words: int = EXCERPT_WORDS) -> tuple[Segment, ...]:
    """About `words` words of `text` around its first matched word, marked; () if none."""
    matcher = _matcher(query)
    first = matcher.search(text) if matcher else None
    if first is None:
        return ()
    reach = words * MAX_WORD_CHARS
    before = list(_WORD.finditer(text, max(0, first.start() - reach), first.start()))
    after = list(_WORD.finditer(text, first.start(), first.start() + reach))
    lead_words = before[-(words // 4) :] if words >= 4 else []
    kept = after[: words - len(lead_words)]
    start_at = lead_words[0].start() if lead_words else first.start()
    window = " ".join(text[start_at : kept[-1].end()].split())
    lead = (Segment("… "),) if _WORD.search(text, 0, start_at) else ()
    tail = (Segment(" …"),) if _WORD.search(text, kept[-1].end()) else ()
    return (*lead, *mark(window, query), *tail)
