"""Word lists for the generated corpus: the vocabulary of an engineering team's journal.

Everything here was written for this benchmark; the corpus generator combines these
pieces into sentences, headings, lists, tables and code, so the text reads like prose
without being anybody's prose.
"""

from __future__ import annotations


def _split(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(","))


NOUNS = _split(
    "queue, worker, migration, release, deploy, index, cache, request, token, schema, "
    "runbook, backup, revision, draft, feed, sitemap, template, handler, lease, retry, "
    "timeout, database, connection, page, editor, agent, reviewer, operator, build, check, "
    "receipt, header, secret, metric, alert, dashboard, log line, trace, benchmark, server, "
    "socket, process, thread, transaction, snapshot, replica, setting, flag, budget, "
    "deadline, webhook, payload, signature, listing, tag page, front matter, slug, "
    "redirect, response, status code, checksum, archive, volume, container, cron job, "
    "scheduler, heartbeat, pager, incident, postmortem, rollback, branch, commit, review, "
    "test suite, fixture, pipeline, artifact, mirror, proxy, load balancer, certificate, "
    "key, permission, role, audit trail, export, import, bundle, renderer, parser, "
    "sanitiser, stylesheet, font, image, caption, headline"
)

ADJECTIVES = _split(
    "stale, durable, atomic, idempotent, slow, fast, small, noisy, quiet, broken, healthy, "
    "new, old, careful, plain, shared, private, public, scheduled, unverified, verified, "
    "lost, orphaned, expensive, cheap, boring, surprising, fragile, sturdy, nightly, "
    "hourly, partial, complete, empty, crowded, cold, warm, hot, late, early, manual, "
    "automatic, honest, misleading, readable, unreadable, tidy, messy, bounded, unbounded, "
    "optional, mandatory, obvious, subtle, temporary, permanent"
)

VERBS = (
    # (third person, base, past)
    ("checks", "check", "checked"),
    ("retries", "retry", "retried"),
    ("records", "record", "recorded"),
    ("drops", "drop", "dropped"),
    ("rewrites", "rewrite", "rewrote"),
    ("publishes", "publish", "published"),
    ("refuses", "refuse", "refused"),
    ("queues", "queue", "queued"),
    ("verifies", "verify", "verified"),
    ("measures", "measure", "measured"),
    ("renders", "render", "rendered"),
    ("caches", "cache", "cached"),
    ("replays", "replay", "replayed"),
    ("rotates", "rotate", "rotated"),
    ("restores", "restore", "restored"),
    ("locks", "lock", "locked"),
    ("releases", "release", "released"),
    ("schedules", "schedule", "scheduled"),
    ("reads", "read", "read"),
    ("writes", "write", "wrote"),
    ("splits", "split", "split"),
    ("merges", "merge", "merged"),
    ("compares", "compare", "compared"),
    ("hides", "hide", "hid"),
    ("reports", "report", "reported"),
    ("rebuilds", "rebuild", "rebuilt"),
    ("trims", "trim", "trimmed"),
    ("counts", "count", "counted"),
    ("signs", "sign", "signed"),
    ("watches", "watch", "watched"),
    ("ignores", "ignore", "ignored"),
    ("expires", "expire", "expired"),
    ("batches", "batch", "batched"),
    ("streams", "stream", "streamed"),
    ("reclaims", "reclaim", "reclaimed"),
    ("tags", "tag", "tagged"),
)

INTRANSITIVE = (
    ("stalls", "stall", "stalled"),
    ("fails", "fail", "failed"),
    ("recovers", "recover", "recovered"),
    ("times out", "time out", "timed out"),
    ("restarts", "restart", "restarted"),
    ("drifts", "drift", "drifted"),
    ("grows", "grow", "grew"),
    ("disappears", "disappear", "disappeared"),
    ("wakes up", "wake up", "woke up"),
    ("falls behind", "fall behind", "fell behind"),
    ("catches up", "catch up", "caught up"),
    ("goes quiet", "go quiet", "went quiet"),
)

ADVERBIALS = _split(
    "on every request, at startup, once a night, before anyone notices, after the first "
    "retry, within a second, in the background, without a lock, under load, on a cold "
    "cache, during the migration, behind the edge secret, for each tag, in one transaction, "
    "at the end of the run, while the worker sleeps, twice in a row, before the swap, after "
    "a restart, in the staging copy, on the busiest day of the month, for no good reason, "
    "exactly once, with a fresh token, from a clean checkout"
)

OPENERS = _split(
    "In practice, Most of the time, On a quiet day, Under load, At first, In hindsight, For "
    "now, Since the last release, On paper, In our tests, Every so often, By design, To be "
    "fair, As a rule, Once in a while, In the old set-up, Surprisingly, Predictably, After "
    "some digging"
)

SUBJECTS = _split(
    "we, the team, the on-call engineer, the writer agent, the editor, our reviewer, the "
    "operator, nobody, everyone, the platform"
)

CONNECTIVES = _split("but, and, so, because, although, while, until, unless, since")

QUESTIONS = (
    "What happens when the {n1} {iv}?",
    "Why does the {n1} {vb} the {n2} at all?",
    "Who notices when a {a1} {n1} {iv}?",
    "Is a {a1} {n1} worse than a {a2} one?",
    "How long can a {n1} wait before the {n2} {iv}?",
)

GERUNDS = _split(
    "Retrying, Measuring, Publishing, Verifying, Rotating, Restoring, Scheduling, "
    "Rendering, Caching, Migrating, Reviewing, Benchmarking, Indexing, Exporting, "
    "Importing, Debugging, Tuning, Sharding"
)

TITLE_PATTERNS = (
    "How we {vb} the {n1}",
    "Why the {a1} {n1} {v3}",
    "What a {a1} {n1} taught us about {n2s}",
    "Notes on {a1} {n1s}",
    "A {a1} {n1} for every {n2}",
    "The case for {a1} {n1s}",
    "{ger} the {n1}: a field report",
    "When the {n1} {iv}",
    "{ger} {a1} {n1s} without a {n2}",
    "The {n1} that {vp} the {n2}",
    "Living with a {a1} {n1}",
    "Ten minutes with the {n1}",
    "Our {n1} {vp} itself {adv}",
    "Stop {ger_lower} the {n1} {adv}",
)

DEK_PATTERNS = (
    "What we learned when the {n1} {vp} the {n2} {adv}, and what we changed afterwards.",
    "A short account of a {a1} {n1}, the {n2} behind it, and the check that now catches it.",
    "Why the {n1} {v3} the {n2}, in plain numbers and one diagram's worth of prose.",
    "The {a1} {n1}, the {a2} {n2}, and the runbook that keeps them apart.",
    "A field report from the {n1}: what {v3} the {n2} and how long it took to notice.",
)

HEADING_PATTERNS = (
    "What the {n1} does",
    "Where the {n1} {iv}",
    "Measuring the {n1}",
    "The {a1} path",
    "Why not a {a1} {n1}?",
    "A {n1} per {n2}",
    "{ger} the {n1}",
    "What we changed",
    "What we would do again",
    "The numbers",
    "Failure modes",
    "Trade-offs",
    "The runbook",
    "Open questions",
    "Before and after",
    "How to reproduce it",
)

LIST_ITEM_PATTERNS = (
    "the {n1} {v3} the {n2} {adv}",
    "a {a1} {n1} never {v3} a {a2} {n2}",
    "{vb} the {n1} first, then the {n2}",
    "keep the {n1} {a1}",
    "every {n1} has exactly one {n2}",
    "no {n1} without a {n2}",
    "the {n1} {iv} {adv}",
    "log the {n1}, not the {n2}",
    "**{a1} {n1s}**: the {n2} {v3} them {adv}",
    "`{ident}` {v3} the {n1}",
)

QUOTE_PATTERNS = (
    "A {n1} that nobody {v3} is a {n1} that {iv} {adv}.",
    "If the {n1} {iv}, the {n2} must still {vb} the {n3}.",
    "Make the {a1} {n1} boring, then make it fast.",
)

LINK_TEXTS = _split(
    "the design notes, our earlier write-up, the upstream issue, the release notes, this "
    "short thread, the specification, the measurements, the runbook, a longer discussion, "
    "the original proposal"
)

LINK_HOSTS = ("example.com", "example.org", "example.net", "docs.example.com")

DOMAIN_IDENTIFIERS = _split(
    "lease, receipt, revision, task, run, slug, tag, feed, token, queue, worker, page, "
    "post, draft, budget, attempt, deadline, digest, release"
)

COMMAND_VERBS = _split(
    "verify, requeue, inspect, rotate, backup, restore, rebuild, export, import, migrate, health"
)

CODE_LANGUAGES = ("python", "bash", "sql", "yaml", "json", "toml", "go", "javascript")

TABLE_METRICS = _split(
    "p50 latency, p99 latency, requests per second, queue depth, lost runs, retries, cache "
    "hits, cold starts, database size, build time, render time, import time, failed checks, "
    "open connections"
)

TABLE_UNITS = ("ms", "ms", "req/s", "tasks", "runs", "%", "%", "", "MB", "s", "ms", "s", "", "")

SETTING_NAMES = _split(
    "lease_seconds, retry_budget, page_size, feed_size, verify_timeout, max_attempts, "
    "worker_count, backoff_base, cache_ttl, edge_header"
)

FIRST_NAMES = ("Amara", "Tomasz", "Leila", "Joon", "Priya", "Henrik")
LAST_NAMES = ("Eze", "Wojcik", "Haddad", "Park", "Raman", "Lund")
AGENT_NAMES = ("Quill", "Tally")

ROLE_TITLES = (
    ("Platform Engineer", "Engineering"),
    ("Site Reliability Engineer", "Operations"),
    ("Managing Editor", "Editorial"),
    ("Data Engineer", "Engineering"),
    ("Writer Agent", "Editorial"),
    ("Review Agent", "Quality"),
)

TAGS = (
    ("operations", "Operations", "Running the platform day to day."),
    ("publishing", "Publishing", "From draft to a verified public page."),
    ("agents", "Agents", "Software staff and what the platform owes them."),
    ("api", "API", "The internal API, its headers and its errors."),
    ("queue", "Task Queue", "Leases, runs, retries and the work behind them."),
    ("design", "Design", "Layout, type and the small facts on every card."),
    ("security", "Security", "Secrets, tokens, roles and the edge."),
    ("performance", "Performance", "Measurements, budgets and what we did with them."),
    ("databases", "Databases", "SQLite, Postgres, migrations and backups."),
    ("incidents", "Incidents", "What broke, how we noticed, what we changed."),
    ("testing", "Testing", "Tests, fixtures and the checks that gate a release."),
    ("editorial", "Editorial", "How the team writes, reviews and edits."),
)
