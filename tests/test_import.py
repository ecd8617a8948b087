"""Importing and exporting folders: all or nothing, PATH:LINE errors, lossless round trips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from masthead.actions.context import OPERATOR
from masthead.actions.drafts import PostFields, edit_post
from masthead.actions.exporting import export_folder
from masthead.actions.publishing import publish_post
from masthead.actions.site_settings import update_site_settings
from masthead.actions.staff import StaffChanges, change_staff
from masthead.domain.staff import Role
from masthead.errors import ImportFailed
from masthead.store.engine import reading, writing
from masthead.store.posts import get_post_id, list_posts
from masthead.store.schema import metadata, post_revisions
from masthead.store.staff import list_staff
from masthead.store.tags import list_tags
from tests.operators import call_as, import_into

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

STAFF = """\
- slug: ada
  name: Ada Stone
  role_title: Platform Engineer
  department: Engineering
  kind: person
  bio: Keeps the lights on.
- slug: ledger
  name: Ledger
  role_title: Release Notes Agent
  department: Engineering
  kind: agent
"""
TAGS = """\
- slug: ops
  name: Operations
  description: Running it.
- slug: api
  name: API
"""


def _post(**fields: Any) -> str:
    body = fields.pop("body", "Some words in a body.")
    meta = {
        "title": "A title",
        "date": "2026-02-03T10:00:00Z",
        "tags": ["ops"],
        "author": "ada",
        "dek": "A short summary.",
        **fields,
    }
    lines = ["---"]
    for key, value in meta.items():
        if value is not None:
            lines.append(f"{key}: {json.dumps(value)}")
    return "\n".join([*lines, "---", "", body, ""])


def _unquoted_date(value: str) -> str:
    """A post whose date is plain YAML, as a person types it (YAML reads it as a timestamp)."""
    return _post(date="DATE").replace('"DATE"', value)


def _folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if name.endswith(".yaml") else text, encoding="utf-8")
    return root


def _valid(root: Path) -> Path:
    return _folder(
        root,
        {
            "staff.yaml": STAFF,
            "tags.yaml": TAGS,
            "posts/first.md": _post(title="First post", slug="first"),
            "posts/deep/nested/second.md": _post(
                title="Second post", tags=["api", "ops"], authors=["ledger", "ada"], author=None
            ),
            "draft.md": _post(title="Still a draft", status="draft"),
        },
    )


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with reading(engine) as connection:
        return {
            table.name: sorted(tuple(map(str, row)) for row in connection.execute(select(table)))
            for table in metadata.sorted_tables
        }


def _problems(engine: Engine, folder: Path, **options: Any) -> list[str]:
    before = _snapshot(engine)
    with pytest.raises(ImportFailed) as failure:
        import_into(engine, folder, at=NOW, **options)
    assert _snapshot(engine) == before, "a failed import must write nothing"
    return [str(problem) for problem in failure.value.problems]


def test_a_valid_folder_imports_posts_staff_and_tags(engine: Engine, tmp_path: Path) -> None:
    summary = import_into(engine, _valid(tmp_path), at=NOW)
    assert summary.as_dict()["posts"] == {"created": 3, "updated": 0, "unchanged": 0}
    with reading(engine) as connection:
        posts = {post.content.slug: post for post in list_posts(connection)}
        assert {member.slug for member in list_staff(connection)} == {"ada", "ledger"}
        assert [tag.name for tag in list_tags(connection)] == ["API", "Operations"]
    assert set(posts) == {"first", "second-post", "still-a-draft"}
    second = posts["second-post"]
    assert second.content.tags == ("api", "ops")
    assert second.content.authors == ("ledger", "ada")
    assert second.published_at == datetime(2026, 2, 3, 10, tzinfo=UTC)
    assert second.status.value == "published"
    assert second.published_revision == 1
    assert posts["still-a-draft"].status.value == "draft"
    assert posts["still-a-draft"].published_revision is None


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.md": "---\ntitle: [unclosed\n---\nbody\n"}, ["a.md:3: malformed YAML"]),
        ({"a.md": "no front matter here\n"}, ["a.md:1: missing front matter"]),
        ({"a.md": "---\ntitle: x\nbody without end\n"}, ["a.md:1: front matter is not closed"]),
        ({"a.md": _post(title=None)}, ["a.md:2: missing title"]),
        ({"a.md": _post(tags=["ops", "nope"])}, ["a.md:4: unknown tag 'nope'"]),
        ({"a.md": _post(author="ghost")}, ["a.md:5: unknown author 'ghost'"]),
        ({"a.md": _post(date="next tuesday")}, ["a.md:3: bad date"]),
        ({"a.md": _unquoted_date("2026-02-30")}, ["a.md:3: bad date"]),
        ({"a.md": _unquoted_date("2026-13-01")}, ["a.md:3: bad date"]),
        ({"a.md": _unquoted_date("2026-01-01T25:00:00Z")}, ["a.md:3: bad date"]),
        ({"a.md": _unquoted_date("2026-01-01 25:00:00")}, ["a.md:3: bad date"]),
        ({"a.md": _post(status="live")}, ["a.md:7: status 'live' must be one of"]),
        ({"a.md": _post(slug="Not A Slug")}, ["a.md:7: slug 'Not A Slug' must be lowercase"]),
        ({"a.md": _post(tagz=["ops"])}, ["a.md:7: unknown field 'tagz'"]),
        ({"a.md": _post(author=None)}, ["a.md:2: missing author"]),
        (
            {"a.md": _post(slug="same"), "b/c.md": _post(slug="same")},
            ["b/c.md:7: slug 'same' is also used by a.md"],
        ),
        (
            {"a.md": _post(title="Same title"), "b.md": _post(title="Same title")},
            ["b.md:2: slug 'same-title' is also used by a.md"],
        ),
        ({"staff.yaml": "- slug: x\n  kind: robot\n"}, ["staff.yaml:1: missing name"]),
        ({"tags.yaml": "- slug: Bad Slug\n  name: x\n"}, ["tags.yaml:1: slug 'Bad Slug'"]),
        ({"tags.yaml": "slug: x\n"}, ["tags.yaml:1: must be a list"]),
    ],
)
def test_each_kind_of_bad_input_names_its_file_and_line_and_writes_nothing(
    engine: Engine, tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    _folder(tmp_path, {"staff.yaml": STAFF, "tags.yaml": TAGS})
    import_into(engine, tmp_path, at=NOW)  # people exist before the bad files come
    _folder(tmp_path, files)
    problems = _problems(engine, tmp_path)
    for fragment in expected:
        assert any(problem.startswith(fragment) for problem in problems), (fragment, problems)


def test_every_problem_in_every_file_is_reported_at_once(engine: Engine, tmp_path: Path) -> None:
    _valid(tmp_path)
    _folder(
        tmp_path,
        {
            "bad1.md": _post(title=None, date="soon"),
            "bad2.md": _post(title="Bad two", tags=["nope"], author="ghost"),
            "bad3.md": _post(title="Bad three", tags=["nope"]),
        },
    )
    problems = _problems(engine, tmp_path)
    assert len(problems) == 5, problems
    assert sorted(problem.split(":")[0] for problem in problems) == [
        "bad1.md", "bad1.md", "bad2.md", "bad2.md", "bad3.md",
    ]  # fmt: skip


def test_all_problems_of_one_file_come_in_one_round(engine: Engine, tmp_path: Path) -> None:
    _folder(tmp_path, {"staff.yaml": STAFF, "tags.yaml": TAGS})
    post = _post(tags=["nope"], date="DATE", author=None, colour="red")
    _folder(tmp_path, {"a.md": post.replace('"DATE"', "2026-02-30")})
    assert sorted(_problems(engine, tmp_path)) == [
        "a.md:2: missing author: give author (a staff slug) or authors (a list)",
        "a.md:3: bad date: not a date or ISO 8601 datetime: '2026-02-30'",
        "a.md:4: unknown tag 'nope' (declare it in tags.yaml, or use --create-missing)",
        "a.md:6: unknown field 'colour' (known: title, slug, date, tags, author, authors, dek, "
        "status)",
    ]


def test_unknown_tags_and_authors_are_created_when_asked(engine: Engine, tmp_path: Path) -> None:
    _folder(tmp_path, {"a.md": _post(tags=["fresh-tag"], author="new-writer")})
    summary = import_into(engine, tmp_path, at=NOW, create_missing=True)
    assert summary.created_tags == ["fresh-tag"]
    assert summary.created_staff == ["new-writer"]
    with reading(engine) as connection:
        assert [tag.name for tag in list_tags(connection)] == ["Fresh Tag"]
        assert [member.name for member in list_staff(connection)] == ["New Writer"]


def test_a_dry_run_checks_and_counts_but_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    before = _snapshot(engine)
    summary = import_into(engine, _valid(tmp_path), at=NOW, dry_run=True)
    assert summary.as_dict()["posts"]["created"] == 3
    assert _snapshot(engine) == before


def test_reimporting_updates_in_place_and_never_duplicates(engine: Engine, tmp_path: Path) -> None:
    folder = _valid(tmp_path)
    import_into(engine, folder, at=NOW)
    again = import_into(engine, folder, at=LATER)
    assert again.as_dict()["posts"] == {"created": 0, "updated": 0, "unchanged": 3}
    (folder / "posts/first.md").write_text(_post(title="First post, revised", slug="first"))
    changed = import_into(engine, folder, at=LATER)
    assert changed.as_dict()["posts"] == {"created": 0, "updated": 1, "unchanged": 2}
    with reading(engine) as connection:
        posts = {post.content.slug: post for post in list_posts(connection)}
        numbers = connection.execute(
            select(post_revisions.c.number).where(post_revisions.c.post_id == posts["first"].id)
        ).scalars()
        assert sorted(numbers) == [1, 2]
    assert len(posts) == 3
    assert posts["first"].content.title == "First post, revised"
    assert (posts["first"].revision, posts["first"].published_revision) == (2, 2)


def _everything(engine: Engine) -> dict[str, Any]:
    with reading(engine) as connection:
        return {
            "posts": sorted(
                (
                    post.content.slug,
                    post.content.title,
                    post.content.dek,
                    post.content.body,
                    post.content.tags,
                    post.content.authors,
                    post.status,
                    post.published_at,
                )
                for post in list_posts(connection)
            ),
            "staff": list_staff(connection),
            "tags": list_tags(connection),
        }


def test_export_then_import_round_trips_every_field(
    engine: Engine, demo_engine: Engine, tmp_path: Path
) -> None:
    original = _everything(demo_engine)
    with reading(demo_engine) as connection:
        export_folder(connection, tmp_path / "out")
    import_into(engine, tmp_path / "out", at=LATER)
    assert _everything(engine) == original
    again = import_into(demo_engine, tmp_path / "out", at=LATER)
    assert again.as_dict()["posts"]["unchanged"] == len(original["posts"])


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MASTHEAD_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "masthead.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)


def test_the_cli_reports_problems_on_stderr_with_exit_code_one(
    sqlite_url: str, tmp_path: Path
) -> None:
    _valid(tmp_path)
    _folder(tmp_path, {"broken.md": _post(tags=["nope"])})
    result = _cli("import", str(tmp_path), database_url=sqlite_url)
    assert result.returncode == 1
    assert "broken.md:4: unknown tag 'nope'" in result.stderr.splitlines()[0]
    assert result.stdout == ""


def test_the_cli_prints_a_json_summary(sqlite_url: str, tmp_path: Path) -> None:
    result = _cli("import", str(_valid(tmp_path)), "--json", database_url=sqlite_url)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["posts"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert summary["dry_run"] is False


def test_the_cli_prints_the_problems_as_one_json_document(sqlite_url: str, tmp_path: Path) -> None:
    _valid(tmp_path)
    _folder(tmp_path, {"broken.md": _unquoted_date("2026-13-01")})
    result = _cli("import", str(tmp_path), "--json", database_url=sqlite_url)
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "code": "import_failed",
        "detail": "1 problem(s) found; nothing was imported",
        "problems": [
            {
                "path": "broken.md",
                "line": 3,
                "message": "bad date: not a date or ISO 8601 datetime: '2026-13-01'",
            }
        ],
    }
    assert "Traceback" not in result.stderr


def test_markdown_files_are_read_whichever_suffix_they_have(engine: Engine, tmp_path: Path) -> None:
    _folder(tmp_path, {"staff.yaml": STAFF, "tags.yaml": TAGS})
    _folder(tmp_path, {"a.md": _post(title="Short"), "posts/b.markdown": _post(title="Long")})
    summary = import_into(engine, tmp_path, at=NOW)
    assert summary.as_dict()["posts"]["created"] == 2
    with reading(engine) as connection:
        assert {post.content.slug for post in list_posts(connection)} == {"short", "long"}


def test_overlong_names_are_reported_not_crashed_on(engine: Engine, tmp_path: Path) -> None:
    staff = "- slug: wordy\n  name: " + "n" * 201 + "\n"
    _folder(tmp_path, {"staff.yaml": staff, "tags.yaml": TAGS, "a.md": _post(title="t" * 301)})
    problems = _problems(engine, tmp_path)
    assert "a.md:2: title is longer than 300 characters" in problems
    assert "staff.yaml:2: name is longer than 200 characters" in problems


def test_an_old_address_of_another_post_cannot_be_imported_to(
    engine: Engine, tmp_path: Path
) -> None:
    import_into(engine, _valid(tmp_path / "first"), at=NOW)
    with writing(engine) as connection:
        post_id = get_post_id(connection, "first")
        assert post_id is not None
        edit_post(connection, call_as(OPERATOR, LATER), post_id, PostFields(slug="moved"))
        publish_post(connection, call_as(OPERATOR, LATER), post_id)  # `first` now redirects
    thief = _folder(tmp_path / "thief", {"staff.yaml": STAFF, "tags.yaml": TAGS})
    (thief / "x.md").write_text(_post(title="Thief", slug="first"))
    problems = _problems(engine, thief)
    assert any(p.startswith("x.md:7: slug 'first' belongs to another post") for p in problems)


def _standing(engine: Engine) -> dict[str, tuple[str, bool]]:
    with reading(engine) as connection:
        return {
            member.slug: (member.role.value, member.active) for member in list_staff(connection)
        }


def test_export_then_import_keeps_staff_roles_and_suspensions(
    engine: Engine, demo_engine: Engine, tmp_path: Path
) -> None:
    with writing(demo_engine) as connection:
        change_staff(connection, call_as(OPERATOR, NOW), "ledger", StaffChanges(role=Role.ADMIN))
        changes = StaffChanges(role=Role.EDITOR, active=False)
        change_staff(connection, call_as(OPERATOR, NOW), "proofreader", changes)
    original = _standing(demo_engine)
    assert original["ledger"] == ("admin", True)
    assert original["proofreader"] == ("editor", False)
    with reading(demo_engine) as connection:
        export_folder(connection, tmp_path / "out")
    import_into(engine, tmp_path / "out", at=LATER)
    assert _standing(engine) == original
    again = import_into(demo_engine, tmp_path / "out", at=LATER)
    assert again.staff_written == 0


def test_a_staff_file_without_roles_keeps_the_roles_staff_have(
    engine: Engine, tmp_path: Path
) -> None:
    import_into(engine, _folder(tmp_path, {"staff.yaml": STAFF}), at=NOW)
    with writing(engine) as connection:
        change_staff(connection, call_as(OPERATOR, NOW), "ada", StaffChanges(role=Role.ADMIN))
    import_into(engine, tmp_path, at=LATER)
    assert _standing(engine) == {"ada": ("admin", True), "ledger": ("writer", True)}
    (tmp_path / "staff.yaml").write_text(STAFF + "  role: editor\n  active: false\n")
    import_into(engine, tmp_path, at=LATER)
    assert _standing(engine) == {"ada": ("admin", True), "ledger": ("editor", False)}
    (tmp_path / "staff.yaml").write_text(STAFF + "  role: boss\n  active: maybe\n")
    assert sorted(_problems(engine, tmp_path)) == [
        "staff.yaml:12: role 'boss' must be one of: writer, editor, admin",
        "staff.yaml:13: active 'maybe' must be true or false",
    ]


def test_the_gates_run_on_every_imported_post_as_a_report_never_a_refusal(
    engine: Engine, tmp_path: Path
) -> None:
    with writing(engine) as connection:
        update_site_settings(connection, call_as(), {"gates": {"placeholder_text": "block"}})
    folder = _valid(tmp_path)
    (folder / "posts/first.md").write_text(
        _post(title="First post", slug="first", body="Numbers TK, and a TODO."), encoding="utf-8"
    )
    summary = import_into(engine, folder, at=NOW)
    assert summary.as_dict()["posts"]["created"] == 3, "a blocking gate blocks no import"
    found = [w for w in summary.gate_warnings if w["code"] == "placeholder_text"]
    assert [(w["slug"], w["severity"], w["line"]) for w in found] == [("first", "block", 1)] * 2
    assert str(found[0]["file"]).endswith("first.md")
    with reading(engine) as connection:
        live = {post.content.slug: post.status.value for post in list_posts(connection)}
    assert live["first"] == "published"
    again = import_into(engine, folder, at=NOW)
    assert again.gate_warnings == [], "unchanged posts are not checked again"
