"""Publish → verified latency: how long a publish takes to be checked on the live site.

    python -m bench.publish_latency [--database sqlite|postgres] [--posts 1000,10000]
                                    [--publishes 100] [--json]

For each site size: a deterministic corpus (`bench.corpus`) is imported with the CLI
(`masthead init`, `masthead import`) into a scratch database, `masthead serve` runs over it
(uvicorn, one process, its in-process worker verifying against its own public URL), and
an editor publishes `--publishes` fresh drafts one after another with
`POST /api/v1/posts/{id}/publish?wait=20`. Two figures per publish:

* `answer`: the client's wall time from sending the publish to the `200` carrying the
  verified receipt (gates, the flip, the worker picking the task up, every check's
  fetch, the answer noticing);
* `flip → verified`: the receipt's own `seconds_to_verified`.

Goal (issue 10): p50 under 1 s at 10,000 posts. The machine is shared and noisy; compare
the two sizes and the two databases measured in one run, not against another day.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.api_load import Api, masthead, scratch_database, serving
from bench.corpus import generate_corpus, write_corpus

GOAL_P50_SECONDS = 1.0
WAIT_SECONDS = 20  # below the idempotency lock (30 s by default)
BODY = " ".join(
    f"Paragraph {number} of a release note says what changed, why, and what to do next."
    for number in range(12)
)


@dataclass
class Run:
    database: str
    posts: int
    answers: list[float] = field(default_factory=list)
    verified: list[float] = field(default_factory=list)
    not_verified: int = 0
    import_seconds: float = 0.0

    @staticmethod
    def _percentile(values: list[float], share: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "database": self.database,
            "posts": self.posts,
            "publishes": len(self.answers),
            "not_verified": self.not_verified,
            "import_seconds": round(self.import_seconds, 1),
            "answer_p50_s": round(statistics.median(self.answers), 3) if self.answers else None,
            "answer_p99_s": round(self._percentile(self.answers, 0.99), 3),
            "verified_p50_s": round(statistics.median(self.verified), 3) if self.verified else None,
            "verified_p99_s": round(self._percentile(self.verified, 0.99), 3),
        }


def _site(env: dict[str, str], workdir: Path, posts: int) -> tuple[str, float]:
    """Import a corpus of `posts` posts; an admin and the admin's token."""
    corpus = generate_corpus(posts)
    folder = write_corpus(corpus, workdir / "corpus")
    masthead("init", env=env, cwd=workdir)
    started = time.perf_counter()
    masthead("import", str(folder), "--json", env=env, cwd=workdir)
    imported = time.perf_counter() - started
    admin = ["--slug", "bench-editor", "--name", "Bench Editor", "--role", "admin"]
    masthead("staff", "add", *admin, env=env, cwd=workdir)
    token = masthead("token", "create", "bench-editor", "--name", "latency", env=env, cwd=workdir)
    return token, imported


def _publish_all(api: Api, run: Run, publishes: int, tag: str, author: str) -> None:
    with httpx.Client(base_url=f"{api.base}/api/v1", headers=api.headers, timeout=60) as client:
        for number in range(publishes):
            draft = client.post(
                "/posts",
                json={
                    "title": f"Latency probe {number}",
                    "dek": "A post published to be timed.",
                    "body": BODY,
                    "tags": [tag],
                    "authors": [author],
                },
            )
            draft.raise_for_status()
            post = draft.json()
            started = time.perf_counter()
            answer = client.post(
                f"/posts/{post['id']}/publish",
                params={"wait": WAIT_SECONDS},
                headers={"If-Match": draft.headers["etag"]},
            )
            run.answers.append(time.perf_counter() - started)
            if answer.status_code not in (200, 202):
                raise RuntimeError(f"publish answered {answer.status_code}: {answer.text}")
            receipt = answer.json()["receipt"]
            if answer.status_code != 200 or receipt["state"] != "verified":
                run.not_verified += 1
            elif receipt["seconds_to_verified"] is not None:
                run.verified.append(receipt["seconds_to_verified"])


def measure(database: str, posts: int, publishes: int) -> Run:
    run = Run(database, posts)
    with (
        tempfile.TemporaryDirectory(prefix="masthead-publish-latency-") as tmp,
        scratch_database(database, Path(tmp)) as database_url,
    ):
        workdir = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
        env |= {
            "MASTHEAD_DATABASE_URL": database_url,
            "MASTHEAD_EDGE_SECRETS": secrets.token_urlsafe(36),
            "MASTHEAD_RATE_LIMIT_PER_MINUTE": "0",
            "MASTHEAD_CONFIG": str(workdir / "masthead.toml"),
        }
        token, run.import_seconds = _site(env, workdir, posts)
        corpus = generate_corpus(posts)
        tag, author = corpus.tags[0]["slug"], corpus.staff[0]["slug"]
        with serving(env, workdir) as base:
            _publish_all(
                Api(base, env["MASTHEAD_EDGE_SECRETS"], token), run, publishes, tag, author
            )
    return run


def _table(runs: list[Run]) -> str:
    lines = [
        "| database | posts | publishes | answer p50 | answer p99 | flip → verified p50 "
        "| p99 | not verified | goal p50 < 1 s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        row = run.as_dict()
        p50 = statistics.median(run.answers) if run.answers else float("inf")
        met = "met" if p50 < GOAL_P50_SECONDS else "MISSED"
        lines.append(
            f"| {run.database} | {run.posts:,} | {row['publishes']} | {row['answer_p50_s']} s "
            f"| {row['answer_p99_s']} s | {row['verified_p50_s']} s | {row['verified_p99_s']} s "
            f"| {row['not_verified']} | {met if run.posts >= 10_000 else '-'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.publish_latency", description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--posts", default="1000,10000", help="site sizes, comma-separated")
    parser.add_argument("--publishes", type=int, default=100, help="publishes per site")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args(argv)
    databases = ["sqlite", "postgres"] if options.database == "both" else [options.database]
    sizes = [int(size) for size in options.posts.split(",")]
    runs = []
    for size in sizes:
        for database in databases:
            run = measure(database, size, options.publishes)
            runs.append(run)
            if not options.json:
                print(f"  {database}, {size:,} posts: {run.as_dict()}", flush=True)
    if options.json:
        print(json.dumps([run.as_dict() for run in runs], indent=2))
    else:
        print(_table(runs))
    return 1 if any(run.not_verified for run in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
