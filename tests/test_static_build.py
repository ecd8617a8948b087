"""`masthead build`: every public URL as a file, byte for byte what `masthead serve`
answers; releases swapped by one rename, pruned, rolled back; incremental builds equal
to full ones."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from masthead.actions.doctor import diagnose
from masthead.actions.drafts import PostFields, edit_post, find_post_by_slug
from masthead.actions.publishing import publish_post
from masthead.actions.redirects import add_path_redirect
from masthead.actions.releases import OutputFolder
from masthead.actions.static_build import rollback_site
from masthead.actions.verification import Fetched
from masthead.domain.releases import file_for
from masthead.errors import NotFound
from masthead.site import export
from masthead.store.engine import open_engine, reading, writing
from masthead.store.events import latest_id
from tests.cli_support import assert_no_traceback, masthead
from tests.conftest import settings_for
from tests.operators import OPERATOR, call_as
from tests.serve_support import masthead_serve
from tests.static_support import build, live_release, manifest_of, tree
from tests.test_page_table import CHANGES, _setup, _World

PUBLIC_URL = "http://static.example.test"
SQLITE_ONLY = pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)


def _republish(engine: Engine, slug: str, fields: PostFields) -> None:
    """Edit a live post and publish the edit."""
    with writing(engine) as connection:
        post = find_post_by_slug(connection, OPERATOR, slug)
        edit_post(connection, call_as(), post.id, fields)
        publish_post(connection, call_as(), post.id)


def test_every_file_of_a_release_is_byte_for_byte_what_masthead_serve_answers(
    demo_database_url: str, tmp_path: Path
) -> None:
    engine = open_engine(demo_database_url)
    moved = "gates-before-publish-moved"
    _republish(engine, "gates-before-publish", PostFields(slug=moved))
    old_path = "/2013/05/05/Gates-Before-Publish.html"  # as an import from elsewhere leaves
    with writing(engine) as connection:
        add_path_redirect(connection, call_as(), old_path, moved)
    settings = settings_for(demo_database_url, public_url=PUBLIC_URL, page_size=4)
    summary = build(engine, settings, tmp_path)
    manifest = manifest_of(tmp_path)
    current = live_release(tmp_path)
    assert summary.pages == len(manifest["pages"]) > 30
    assert "/posts/gates-before-publish/" in manifest["redirects"]
    assert manifest["redirects"][old_path] == f"/posts/{moved}/"
    env = {"MASTHEAD_PUBLIC_URL": PUBLIC_URL, "MASTHEAD_PAGE_SIZE": "4"}
    with (
        masthead_serve(demo_database_url, "--no-worker", **env) as served,
        httpx.Client(base_url=served.url, timeout=30) as client,
    ):
        for url, (path, _digest, _size) in manifest["pages"].items():
            answer = client.get(url)
            expected = 404 if url == "/404.html" else 200
            assert answer.status_code == expected, url
            assert answer.content == (current / path).read_bytes(), url
        for old, new in manifest["redirects"].items():
            answer = client.get(old)
            assert (answer.status_code, answer.headers["location"]) == (301, new), old
            assert (
                f'<link rel="canonical" href="{PUBLIC_URL}{new}">'
                in (current / file_for(old)).read_text()
            )
        assert client.get("/no/such/page/").content == (current / "404.html").read_bytes()
    assert f"/posts/{moved}/" in manifest["pages"]
    map_lines = (current / export.REDIRECTS_MAP).read_text().splitlines()
    assert "/posts/gates-before-publish/ /posts/gates-before-publish-moved/;" in map_lines
    engine.dispose()


@SQLITE_ONLY
def test_a_build_goes_live_by_renaming_a_symlink_keeps_k_releases_and_rolls_back(
    demo_database_url: str, tmp_path: Path
) -> None:
    engine = open_engine(demo_database_url)
    settings = settings_for(demo_database_url)
    names = [build(engine, settings, tmp_path, keep=3).release for _ in range(5)]
    folder = OutputFolder(tmp_path)
    assert folder.names() == names[-3:]
    assert os.readlink(tmp_path / "current") == f"releases/{names[-1]}"
    assert sorted(path.name for path in (tmp_path / "releases").iterdir()) == sorted(
        [*names[-3:], *(f"{name}.json" for name in names[-3:])]
    )
    assert rollback_site(tmp_path).current == names[-2]
    assert rollback_site(tmp_path).current == names[-3]
    with pytest.raises(NotFound):
        rollback_site(tmp_path)
    assert folder.live() == names[-3]
    newer = build(engine, settings, tmp_path, keep=3).release
    assert folder.live() == newer
    assert folder.names() == [names[-2], names[-1], newer]
    engine.dispose()


@SQLITE_ONLY
def test_the_command_builds_rolls_back_and_answers_json(
    demo_database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    first = masthead("build", "--out", str(out), "--json", database_url=demo_database_url)
    assert first.returncode == 0, first.stderr
    second = masthead(
        "build", "--out", str(out), "--incremental", "--json", database_url=demo_database_url
    )
    done = json.loads(second.stdout)
    assert (done["incremental"], done["rendered"], done["reused"]) == (True, 0, done["pages"])
    back = masthead("build", "--out", str(out), "--rollback", database_url=demo_database_url)
    assert back.returncode == 0
    assert json.loads(first.stdout)["release"] in back.stdout
    again = masthead("build", "--out", str(out), "--rollback", database_url=demo_database_url)
    assert again.returncode == 3
    assert again.stderr.startswith("not_found:")
    assert_no_traceback(again)


@SQLITE_ONLY
def test_a_build_on_two_processes_writes_the_same_tree_as_one(
    demo_database_url: str, tmp_path: Path
) -> None:
    engine = open_engine(demo_database_url)
    settings = settings_for(demo_database_url, page_size=1)  # enough pages for two processes
    build(engine, settings, tmp_path / "one")
    build(engine, settings, tmp_path / "two", jobs=2)
    one, two = tree(live_release(tmp_path / "one")), tree(live_release(tmp_path / "two"))
    assert len(one) > 100
    assert one == two
    engine.dispose()


@pytest.mark.parametrize("seed", [20261204])
def test_incremental_builds_after_random_changes_equal_full_builds(
    sqlite_url: str, tmp_path: Path, seed: int
) -> None:
    settings = settings_for(sqlite_url, page_size=3)
    world = _World(open_engine(sqlite_url), settings, random.Random(seed))
    _setup(world)
    build(world.engine, settings, tmp_path / "inc")
    weights, actions = zip(*CHANGES, strict=True)
    reused = 0
    for number in range(15):
        for _ in range(world.rng.randrange(1, 3)):
            with writing(world.engine) as connection:
                world.rng.choices(actions, weights)[0](world, connection)
        summary = build(world.engine, settings, tmp_path / "inc", incremental=True)
        full = tmp_path / f"full-{number}"
        build(world.engine, settings, full)
        assert tree(live_release(tmp_path / "inc")) == tree(live_release(full)), number
        with reading(world.engine) as connection:
            assert summary.events_through == latest_id(connection)
        reused += summary.reused
    assert reused > 0  # not every change made a full build
    world.engine.dispose()


@SQLITE_ONLY
def test_an_incremental_edit_renders_only_the_pages_it_changed(
    demo_database_url: str, tmp_path: Path
) -> None:
    engine = open_engine(demo_database_url)
    settings = settings_for(demo_database_url)
    first = build(engine, settings, tmp_path)
    _republish(engine, "runbooks-are-scripts", PostFields(body="A new body.\n\nShort."))
    second = build(engine, settings, tmp_path, incremental=True)
    assert 0 < second.rendered <= 12
    assert second.reused == first.pages - second.rendered
    page = live_release(tmp_path) / "posts/runbooks-are-scripts/index.html"
    assert "A new body." in page.read_text()
    engine.dispose()


@SQLITE_ONLY
def test_ops_doctor_reports_free_disk_where_static_builds_go(
    demo_database_url: str, tmp_path: Path
) -> None:
    engine = open_engine(demo_database_url)
    settings = settings_for(demo_database_url, static_dir=str(tmp_path / "not-yet" / "site"))

    def unreachable(path: str) -> Fetched:
        return Fetched(path, None, "", 0.0, "refused")

    findings = diagnose(engine, settings, unreachable, call_as().at)
    disk = [finding for finding in findings if finding.code in {"disk_free", "disk_low"}]
    assert len(disk) == 2  # the SQLite file's folder, and the static folder's
    assert "static builds" in disk[1].message
    assert str(tmp_path) in disk[1].message
    engine.dispose()
