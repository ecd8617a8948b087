"""Gates as pure functions: each code triggered by a crafted post, in both severities."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from masthead.domain.gates import (
    BODY_MIN_WORDS,
    GATES,
    Approval,
    LinkTarget,
    Severity,
    Subject,
    Surroundings,
    blocking,
    internal_links,
    run_gates,
)
from masthead.domain.staff import StaffKind

WORDS = " ".join(["word"] * BODY_MIN_WORDS)
CLEAN = Subject(
    slug="clean",
    title="A clean post",
    dek="It passes every gate.",
    body=WORDS,
    tags=("ops",),
    authors=("ada",),
    revision=3,
    body_html=f"<p>{WORDS}</p>",
    word_count=BODY_MIN_WORDS,
)
APPROVED = Approval("eli", StaffKind.PERSON, 3, datetime(2026, 12, 1, tzinfo=UTC))
AROUND = Surroundings(
    known_tags=frozenset({"ops"}), author_kinds={"ada": StaffKind.PERSON}, approval=APPROVED
)
WHEN = datetime(2027, 1, 1, 9, tzinfo=UTC)

CASES: dict[str, tuple[Subject, Surroundings]] = {
    "missing_title": (replace(CLEAN, title="  "), AROUND),
    "title_too_long": (replace(CLEAN, title="T" * 101), AROUND),
    "missing_dek": (replace(CLEAN, dek=""), AROUND),
    "dek_too_long": (replace(CLEAN, dek="d" * 301), AROUND),
    "no_tags": (replace(CLEAN, tags=()), AROUND),
    "unknown_tag": (replace(CLEAN, tags=("ops", "nope")), AROUND),
    "no_author": (replace(CLEAN, authors=()), AROUND),
    "body_too_short": (
        replace(CLEAN, body="Short.", body_html="<p>Short.</p>", word_count=1),
        AROUND,
    ),
    "placeholder_text": (replace(CLEAN, body=f"{WORDS}\n\nTK: a figure here."), AROUND),
    "broken_internal_link": (
        replace(
            CLEAN, body=f"{WORDS} [see](/posts/gone/)", body_html='<a href="/posts/gone/">x</a>'
        ),
        AROUND,
    ),
    "image_missing_alt": (
        replace(CLEAN, body=f"{WORDS}\n\n![](/img/a.png)", body_html='<img src="/img/a.png">'),
        AROUND,
    ),
    "unsafe_html_removed": (replace(CLEAN, removed_markup=("script",)), AROUND),
    "slug_taken": (CLEAN, replace(AROUND, slug_owner=7)),
    "render_failed": (replace(CLEAN, body_html=None, render_error="boom"), AROUND),
    "not_approved": (  # an agent wrote it: blocking then applies
        CLEAN,
        replace(AROUND, approval=None, author_kinds={"ada": StaffKind.AGENT}),
    ),
}


def test_a_clean_post_passes_every_gate() -> None:
    assert run_gates(CLEAN, AROUND) == []


def test_every_gate_has_a_crafted_case() -> None:
    assert set(CASES) == {gate.code for gate in GATES}


@pytest.mark.parametrize("gate", GATES, ids=lambda gate: gate.code)
@pytest.mark.parametrize("severity", list(Severity))
def test_each_gate_fires_with_the_severity_the_site_chose(gate: object, severity: Severity) -> None:
    code = gate.code  # type: ignore[attr-defined]
    subject, around = CASES[code]
    results = run_gates(subject, around, {code: severity})
    assert [result.code for result in results] == [code], results
    assert results[0].severity is severity
    assert results[0].message


def test_defaults_are_the_table_s() -> None:
    for gate in GATES:
        subject, around = CASES[gate.code]
        (result,) = run_gates(subject, around)
        assert result.severity is gate.severity


def test_results_say_where_the_problem_is() -> None:
    subject, around = CASES["placeholder_text"]
    (result,) = run_gates(subject, around)
    assert (result.field, result.line) == ("body", 3)
    assert "TK" in result.message
    assert run_gates(*CASES["image_missing_alt"])[0].line == 3


def test_placeholders_in_code_and_in_ordinary_words_are_not_placeholders() -> None:
    code = "```python\n# TODO: in code is fine\n```"
    body = f"{WORDS}\n\n{code}\n\nUse `XXX` in code too.\n\nkiosk xxx tk"
    assert run_gates(replace(CLEAN, body=body), AROUND) == []
    for text in ("TODO write this", "lorem ipsum dolor", "as shown [citation needed]", "XXX"):
        results = run_gates(replace(CLEAN, dek=text), AROUND)
        assert [result.code for result in results] == ["placeholder_text"], text


def test_a_link_to_a_post_scheduled_later_is_a_warning_naming_it() -> None:
    subject = replace(
        CLEAN, body_html='<a href="/posts/soon/#part">soon</a>', body=f"{WORDS} /posts/soon/"
    )
    around = replace(AROUND, links={"/posts/soon/": LinkTarget(False, WHEN)})
    (result,) = run_gates(subject, around)
    assert (result.code, result.severity) == ("broken_internal_link", Severity.WARN)
    assert WHEN.isoformat() in result.message
    live = replace(AROUND, links={"/posts/soon/": LinkTarget(True)})
    assert run_gates(subject, live) == []


def test_internal_links_are_the_sites_own_pages_only() -> None:
    html = (
        '<a href="/posts/a/">a</a><a href="https://blog.example.test/tag/ops/">t</a>'
        '<a href="https://elsewhere.test/posts/b/">x</a><a href="/author/ada">b</a>'
        '<a href="/posts/a/#again">again</a><a href="/static/site.css">css</a>'
    )
    assert internal_links(html, "https://blog.example.test") == [
        "/posts/a/",
        "/tag/ops/",
        "/author/ada/",
    ]


def test_blocking_on_agents_needs_a_person_s_approval_of_this_very_revision() -> None:
    by_agent = replace(AROUND, author_kinds={"ada": StaffKind.AGENT})
    strict = {"not_approved": Severity.BLOCK}
    assert run_gates(CLEAN, by_agent, strict) == []  # a person approved revision 3
    old = replace(by_agent, approval=replace(APPROVED, revision=2))
    assert [r.severity for r in run_gates(CLEAN, old, strict)] == [Severity.BLOCK]
    by_bot = replace(by_agent, approval=replace(APPROVED, kind=StaffKind.AGENT))
    assert blocking(run_gates(CLEAN, by_bot, strict))
    people_only = replace(AROUND, approval=None)
    assert [r.severity for r in run_gates(CLEAN, people_only, strict)] == [Severity.WARN]


def test_the_docs_table_of_gates_is_the_code_s() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "publishing.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)` \| `(block|warn)` \| (.+) \|$", doc, re.MULTILINE)
    assert [(code, severity) for code, severity, _ in rows] == [
        (gate.code, gate.severity.value) for gate in GATES
    ]
