"""Event → receiver latency of webhooks: from an event's commit to its signed POST's arrival.

    python -m bench.webhook_latency [--database sqlite|postgres] [--events 200]
                                    [--gap 0.05] [--json]

A scratch database is migrated; a receiver listens on loopback; one webhook is
registered for `tag.changed`; a worker runs in this process (the same as `masthead
serve`'s embedded worker: 4 handler threads). Then `--events` tags are added one after
another, `--gap` seconds apart (so that the figure is the latency of one event, not of a
backlog), each in its own transaction. For each: the time from just after its commit
to the receiver reading the request, through the dispatcher, the webhooks consumer's
fan-out, the delivery task's claim, the SSRF guard's check and the POST.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.api_load import scratch_database
from masthead.actions.context import OPERATOR, Call
from masthead.actions.setup import migrate_database
from masthead.actions.tags import add_tag
from masthead.actions.webhooks import add_webhook
from masthead.domain.staff import Tag
from masthead.queue.embedded import start_embedded_worker
from masthead.settings import Settings
from masthead.store.engine import open_engine, writing


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()

    def note(self, slug: str) -> None:
        with self.lock:
            self.at.setdefault(slug, time.monotonic())


def _receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            arrivals.note(body["resource"]["facts"]["slug"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure(database: str, events: int, gap: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder, scratch_database(database, Path(folder)) as url:
        settings = Settings(  # type: ignore[call-arg]
            database_url=url, webhooks_allow_private=True, queue_poll_seconds=0.5
        )
        engine = open_engine(url)
        migrate_database(engine)
        arrivals = Arrivals()
        server = _receiver(arrivals)
        target = f"http://127.0.0.1:{server.server_address[1]}/hook"
        call = Call(OPERATOR, _now(), settings)
        with writing(engine) as connection:
            add_webhook(connection, call, target, ["tag.changed"])
        worker = start_embedded_worker(settings, engine)
        committed: dict[str, float] = {}
        try:
            time.sleep(1.0)  # the worker registers
            for number in range(events):
                slug = f"tag-{number}"
                with writing(engine) as connection:
                    add_tag(connection, Call(OPERATOR, _now(), settings), Tag(slug, slug))
                committed[slug] = time.monotonic()
                time.sleep(gap)
            deadline = time.monotonic() + 60
            while len(arrivals.at) < events and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            worker.stop()
            server.shutdown()
            engine.dispose()
    latencies = [arrivals.at[slug] - committed[slug] for slug in committed if slug in arrivals.at]
    return {
        "database": database,
        "events": events,
        "delivered": len(latencies),
        "gap_seconds": gap,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def _now() -> datetime:
    return datetime.now(UTC)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_latency")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between two events")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    options = parser.parse_args(argv)
    result = measure(options.database, options.events, options.gap)
    if options.json:
        print(json.dumps(result))
        return
    print(
        f"webhooks, event → receiver ({result['database']}, {result['delivered']}/"
        f"{result['events']} events, {options.gap:g} s apart): p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, max {result['max_ms']} ms"
    )


if __name__ == "__main__":
    main()
