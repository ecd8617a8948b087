"""A deterministic corpus in Masthead's import format: staff, tags and N Markdown posts.

The text is generated from the word lists in `bench.words` with a seeded
`random.Random`, so the same seed and N always give byte-identical files. Bodies run
from about 400 to 900 words, with headings, paragraphs, lists, fenced code (with a
language), tables, block quotes, inline code, emphasis and links, internal and external.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import words

__all__ = ["Corpus", "GeneratedPost", "generate_corpus", "write_corpus"]

ANCHOR = datetime(2025, 12, 31, 18, 0, tzinfo=UTC)
DRAFT_SHARE = 0.04
MIN_WORDS, MAX_WORDS = 400, 900
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_ARTICLE = re.compile(r"\b([Aa]) (?=[aeio]|un|hour|hon)")
_WORD = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True)
class GeneratedPost:
    slug: str
    title: str
    dek: str
    date: datetime
    tags: tuple[str, ...]
    author: str
    status: str
    body: str
    words: int


@dataclass
class Corpus:
    seed: int
    staff: list[dict[str, str]]
    tags: list[dict[str, str]]
    posts: list[GeneratedPost]
    folder: Path | None = None
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def bodies(self) -> list[str]:
        return [post.body for post in self.posts]

    @property
    def published(self) -> list[GeneratedPost]:
        return [post for post in self.posts if post.status == "published"]


def slugify(text: str) -> str:
    slug = _NOT_SLUG.sub("-", text.lower()).strip("-")
    if len(slug) > 80:
        slug = slug[:80].rsplit("-", 1)[0]
    return slug or "post"


def plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def fix_articles(text: str) -> str:
    return _ARTICLE.sub(lambda match: match.group(1) + "n ", text)


def capitalise(text: str) -> str:
    if text.startswith("`"):
        return text
    for index, char in enumerate(text):
        if char.isalpha():
            return text[:index] + char.upper() + text[index + 1 :]
    return text


def count_words(text: str) -> int:
    return sum(1 for token in text.split() if _WORD.search(token))


class _Slots(dict[str, str]):
    """Template slots drawn on first use, so a template pays only for what it names."""

    def __init__(self, writer: _Writer) -> None:
        super().__init__()
        self.writer = writer

    def __missing__(self, key: str) -> str:
        value = self.writer.slot(key, self)
        self[key] = value
        return value


class _Writer:
    """Sentences, blocks and whole bodies, all drawn from one random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.earlier: list[tuple[str, str]] = []

    # -- words -----------------------------------------------------------------------
    def pick(self, options: tuple[str, ...]) -> str:
        return options[self.rng.randrange(len(options))]

    def noun_other_than(self, slots: dict[str, str], *keys: str) -> str:
        taken = {slots[key] for key in keys}
        while True:
            noun = self.pick(words.NOUNS)
            if noun not in taken:
                return noun

    def identifier(self) -> str:
        suffix = self.pick(("id", "at", "count", "seconds", "digest", "state", "key", "url"))
        return f"{self.pick(words.DOMAIN_IDENTIFIERS)}_{suffix}"

    def slot(self, key: str, slots: _Slots) -> str:
        simple = {
            "a1": words.ADJECTIVES,
            "a2": words.ADJECTIVES,
            "adv": words.ADVERBIALS,
            "ger": words.GERUNDS,
            "opener": words.OPENERS,
            "conj": words.CONNECTIVES,
            "cmd": words.COMMAND_VERBS,
            "setting": words.SETTING_NAMES,
        }
        if key in simple:
            return self.pick(simple[key])
        verb_forms = {"v3": 0, "vb": 1, "vp": 2}
        if key in verb_forms:
            return self.pick_verb(words.VERBS)[verb_forms[key]]
        intransitive_forms = {"iv": 0, "ivb": 1, "ivp": 2}
        if key in intransitive_forms:
            return self.pick_verb(words.INTRANSITIVE)[intransitive_forms[key]]
        if key == "n1":
            return self.pick(words.NOUNS)
        if key == "n2":
            return self.noun_other_than(slots, "n1")
        if key == "n3":
            return self.noun_other_than(slots, "n1", "n2")
        if key.endswith("s") and key[:-1] in {"n1", "n2", "n3"}:
            return plural(slots[key[:-1]])
        if key == "ger_lower":
            return slots["ger"].lower()
        if key == "ident":
            return self.identifier()
        if key == "k":
            return str(self.rng.randint(2, 9))
        if key == "m":
            return str(self.rng.choice((10, 20, 50, 100, 1000)))
        if key == "ms":
            return str(self.rng.choice((5, 12, 40, 150, 800, 2500)))
        raise KeyError(key)

    def pick_verb(self, verbs: tuple[tuple[str, str, str], ...]) -> tuple[str, str, str]:
        return verbs[self.rng.randrange(len(verbs))]

    def fill(self, template: str) -> str:
        return fix_articles(template.format_map(_Slots(self)))

    # -- sentences -------------------------------------------------------------------
    def subject_and_verb(self) -> tuple[str, str]:
        subject = self.pick(words.SUBJECTS)
        verb = self.pick_verb(words.VERBS)
        return subject, verb[1] if subject == "we" else verb[0]

    def sentence(self) -> str:
        roll = self.rng.random()
        if roll < 0.22:
            subject, verb = self.subject_and_verb()
            text = f"{{opener}}, {subject} {verb} the {{a1}} {{n1}} {{adv}}."
        elif roll < 0.38:
            text = "The {n1} {v3} the {n2} {adv}, {conj} the {n3} {iv}."
        elif roll < 0.48:
            subject, verb = self.subject_and_verb()
            text = f"{subject} {verb} every {{n1}} {{adv}}."
        elif roll < 0.58:
            text = "A {a1} {n1} {v3} the {n2}; the {a2} {n3} {iv}."
        elif roll < 0.67:
            text = "When the {n1} {iv}, the {n2} {v3} the {n3}."
        elif roll < 0.72:
            text = self.pick(words.QUESTIONS)
        elif roll < 0.78:
            text = "In {k} of {m} runs, the {n1} {vp} the {n2} within {ms} milliseconds."
        elif roll < 0.84:
            text = "That is why the {n1} {v3} the {n2} and not the {n3}."
        elif roll < 0.88:
            text = "It took us {k} days to see that the {n1} {vp} the {n2}."
        elif roll < 0.92:
            text = "The `{ident}` field {v3} the {n1} {adv}."
        elif roll < 0.95:
            text = "Run `masthead ops {cmd} --dry-run` first and the {n1} {v3} nothing."
        elif roll < 0.98:
            text = "This is *not* the same as a {a1} {n1}."
        else:
            text = "**Rule of thumb:** {vb} the {n1} before the {n2} {iv}."
        return capitalise(self.fill(text))

    def link_sentence(self) -> str:
        """An internal link to an earlier post, an external link, or a bare URL (GFM autolink)."""
        roll = self.rng.random()
        if self.earlier and roll < 0.45:
            slug, title = self.earlier[
                self.rng.randrange(max(0, len(self.earlier) - 200), len(self.earlier))
            ]
            return f"We covered part of this in [{title}](/posts/{slug}/)."
        host = self.pick(words.LINK_HOSTS)
        path = slugify(self.fill("{a1} {n1}"))
        if roll > 0.85:
            return f"The raw numbers are at https://{host}/runs/{self.rng.randint(100, 9999)}."
        text = self.pick(words.LINK_TEXTS)
        return f"See [{text}](https://{host}/notes/{path}) for the details."

    # -- blocks ----------------------------------------------------------------------
    def paragraph(self) -> str:
        sentences = [self.sentence() for _ in range(self.rng.randint(3, 7))]
        if self.rng.random() < 0.22:
            sentences.insert(self.rng.randint(1, len(sentences)), self.link_sentence())
        return " ".join(sentences)

    def heading(self, level: int) -> str:
        return "#" * level + " " + capitalise(self.fill(self.pick(words.HEADING_PATTERNS)))

    def bullet_list(self) -> str:
        numbered = self.rng.random() < 0.35
        items = []
        for number in range(1, self.rng.randint(3, 6) + 1):
            item = capitalise(self.fill(self.pick(words.LIST_ITEM_PATTERNS)))
            if self.rng.random() < 0.5:
                item += "."
            items.append(f"{number}. {item}" if numbered else f"- {item}")
        return "\n".join(items)

    def quote(self) -> str:
        return "> " + self.fill(self.pick(words.QUOTE_PATTERNS))

    def table(self) -> str:
        if self.rng.random() < 0.5:
            rows = ["| Metric | Before | After |", "| --- | ---: | ---: |"]
            for index in self.rng.sample(range(len(words.TABLE_METRICS)), self.rng.randint(3, 6)):
                unit = words.TABLE_UNITS[index]
                before = self.rng.randint(10, 5000)
                after = max(1, int(before * self.rng.uniform(0.2, 1.3)))
                label = words.TABLE_METRICS[index]
                rows.append(f"| {label} | {before} {unit} | {after} {unit} |".replace("  |", " |"))
            return "\n".join(rows)
        rows = ["| Setting | Default | What it does |", "| --- | --- | --- |"]
        for name in self.rng.sample(words.SETTING_NAMES, self.rng.randint(3, 5)):
            default = self.rng.choice((str(self.rng.randint(1, 600)), "true", "false", '"auto"'))
            what = capitalise(self.fill("the {n1} {v3} the {n2} {adv}"))
            rows.append(f"| `{name}` | `{default}` | {what} |")
        return "\n".join(rows)

    def code_block(self) -> str:
        language = self.pick(words.CODE_LANGUAGES)
        code = getattr(self, f"code_{language}")()
        return f"```{language}\n{code}\n```"

    # -- code, one small generator per language ----------------------------------------
    def names(self) -> tuple[str, str, str]:
        verb = self.pick_verb(words.VERBS)[1]
        noun = self.pick(words.DOMAIN_IDENTIFIERS)
        other = self.pick(words.DOMAIN_IDENTIFIERS)
        return verb, noun, other

    def code_python(self) -> str:
        verb, noun, other = self.names()
        attempts, seconds = self.rng.randint(2, 6), self.rng.choice((5, 30, 60, 300))
        doc = self.fill("{vb} the {n1} and give up after a few attempts")
        return "\n".join(
            (
                f"def {verb}_{noun}({other}s, attempts={attempts}):",
                f'    """{capitalise(doc)}."""',
                "    for attempt in range(attempts):",
                f'        {noun} = {other}s.claim("{self.identifier()}", seconds={seconds})',
                f"        if {noun} is not None:",
                f"            return {noun}",
                "        time.sleep(2**attempt / 10)",
                f'    raise TimeoutError("no {noun} after %d attempts" % attempts)',
            )
        )

    def code_bash(self) -> str:
        command = self.pick(words.COMMAND_VERBS)
        noun = self.pick(words.DOMAIN_IDENTIFIERS)
        return "\n".join(
            (
                f"export MASTHEAD_DATABASE_URL=sqlite:///./{noun}.db",
                f"masthead ops {command} --dry-run --json | jq '.{self.identifier()}'",
                f"masthead ops {command} --json > {noun}-report.json",
                'echo "exit code: $?"',
            )
        )

    def code_sql(self) -> str:
        _, noun, other = self.names()
        state = self.pick(("queued", "running", "lost", "failed", "done"))
        return "\n".join(
            (
                f"SELECT {other}_id, count(*) AS {noun}_count",
                f"FROM {noun}s",
                f"WHERE state = '{state}'",
                f"  AND updated_at < now() - interval '{self.rng.randint(2, 90)} minutes'",
                f"GROUP BY {other}_id",
                f"ORDER BY {noun}_count DESC",
                f"LIMIT {self.rng.choice((5, 10, 20, 50))};",
            )
        )

    def code_yaml(self) -> str:
        first, second = self.rng.sample(words.SETTING_NAMES, 2)
        tags = self.rng.sample([slug for slug, _, _ in words.TAGS], 2)
        return "\n".join(
            (
                f"{self.pick(words.DOMAIN_IDENTIFIERS)}:",
                f"  {first}: {self.rng.randint(1, 600)}",
                f"  {second}: {self.pick(('true', 'false'))}",
                f"  tags: [{tags[0]}, {tags[1]}]",
                f"  note: {self.fill('the {a1} {n1} {v3} the {n2}')}",
            )
        )

    def code_json(self) -> str:
        _, noun, other = self.names()
        document = {
            "id": self.rng.randint(1000, 99999),
            "kind": noun,
            "state": self.pick(("queued", "running", "lost", "done")),
            other: {"attempt": self.rng.randint(1, 5), "ok": self.rng.random() < 0.7},
            "checks": [self.pick(words.DOMAIN_IDENTIFIERS) for _ in range(3)],
        }
        return json.dumps(document, indent=2)

    def code_toml(self) -> str:
        first, second = self.rng.sample(words.SETTING_NAMES, 2)
        return "\n".join(
            (
                f"[{self.pick(words.DOMAIN_IDENTIFIERS)}]",
                f"{first} = {self.rng.randint(1, 600)}",
                f'{second} = "{self.pick(words.ADJECTIVES)}"',
                f'public_url = "https://{self.pick(words.LINK_HOSTS)}"',
            )
        )

    def code_go(self) -> str:
        verb, noun, other = self.names()
        name = verb.capitalize() + noun.capitalize()
        attempts, pause = self.rng.randint(2, 6), self.rng.choice((50, 100, 250))
        return "\n".join(
            (
                f"func {name}(ctx context.Context, {other} *{other.capitalize()}) error {{",
                f"\tfor i := 0; i < {attempts}; i++ {{",
                f"\t\tif err := {other}.{verb.capitalize()}(ctx); err == nil {{",
                "\t\t\treturn nil",
                "\t\t}",
                f"\t\ttime.Sleep({pause} * time.Millisecond)",
                "\t}",
                f'\treturn fmt.Errorf("{noun}: gave up after %d attempts", {attempts})',
                "}",
            )
        )

    def code_javascript(self) -> str:
        verb, noun, _ = self.names()
        return "\n".join(
            (
                f"async function {verb}{noun.capitalize()}(url) {{",
                '  const response = await fetch(url, { headers: { Accept: "application/json" } });',
                f"  if (!response.ok) throw new Error(`{noun}: ${{response.status}}`);",
                f"  return (await response.json()).{self.identifier()};",
                "}",
            )
        )

    # -- a whole body ----------------------------------------------------------------
    def body(self) -> tuple[str, int]:
        target = self.rng.randint(MIN_WORDS + 20, MAX_WORDS - 80)
        blocks = [self.paragraph() for _ in range(self.rng.randint(1, 2))]
        total = sum(count_words(block) for block in blocks)
        while total < target:
            section = [self.heading(2)]
            section += [self.paragraph() for _ in range(self.rng.randint(1, 3))]
            if self.rng.random() < 0.2:
                section += [self.heading(3), self.paragraph()]
            extras = (
                (0.35, self.bullet_list),
                (0.18, self.code_block),
                (0.1, self.table),
                (0.08, self.quote),
            )
            for chance, make in extras:
                if self.rng.random() < chance:
                    section.insert(self.rng.randint(2, len(section)), make())
            added = sum(count_words(block) for block in section if not block.startswith("```"))
            if total + added > MAX_WORDS:
                break
            blocks += section
            total += added
        return "\n\n".join(blocks), total


def _staff(writer: _Writer) -> list[dict[str, str]]:
    staff = []
    people = list(zip(words.FIRST_NAMES, words.LAST_NAMES, strict=True))[:4]
    names = [f"{first} {last}" for first, last in people] + list(words.AGENT_NAMES)
    for index, name in enumerate(names):
        role_title, department = words.ROLE_TITLES[index]
        kind = "agent" if index >= len(people) else "person"
        bio = " ".join(writer.sentence() for _ in range(2))
        staff.append(
            {
                "slug": slugify(name),
                "name": name,
                "role_title": role_title,
                "department": department,
                "kind": kind,
                "bio": bio,
            }
        )
    return staff


def _dates(rng: random.Random, count: int) -> list[datetime]:
    gaps = [timedelta(minutes=rng.randint(90, 1500)) for _ in range(count)]
    moment = ANCHOR - sum(gaps, timedelta())
    dates = []
    for gap in gaps:
        moment += gap
        dates.append(moment)
    return dates


def generate_corpus(posts: int, seed: int = 2024) -> Corpus:
    """N posts, oldest first; the same (posts, seed) always gives the same corpus."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    staff = _staff(writer)
    tags = [{"slug": slug, "name": name, "description": text} for slug, name, text in words.TAGS]
    tag_weights = [1 / (rank + 1) for rank in range(len(tags))]
    author_weights = [3, 2, 2, 1, 3, 2]
    taken: set[str] = set()
    generated = []
    for number, date in enumerate(_dates(rng, posts), start=1):
        title = capitalise(writer.fill(writer.pick(words.TITLE_PATTERNS)))
        slug = base = slugify(title)
        suffix = 2
        while slug in taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(slug)
        chosen: list[str] = []
        for _ in range(rng.randint(1, 3)):
            tag = rng.choices(tags, weights=tag_weights)[0]["slug"]
            if tag not in chosen:
                chosen.append(tag)
        author = rng.choices(staff, weights=author_weights)[0]["slug"]
        status = "draft" if rng.random() < DRAFT_SHARE else "published"
        if number == posts:
            status = "published"  # the newest post is live, so every page has one
        dek = writer.fill(writer.pick(words.DEK_PATTERNS))
        body, count = writer.body()
        generated.append(
            GeneratedPost(slug, title, dek, date, tuple(chosen), author, status, body, count)
        )
        if status == "published":
            writer.earlier.append((slug, title))
    corpus = Corpus(seed=seed, staff=staff, tags=tags, posts=generated)
    corpus.stats = _stats(corpus)
    return corpus


def _stats(corpus: Corpus) -> dict[str, float]:
    counts = sorted(post.words for post in corpus.posts)
    bodies = corpus.bodies
    return {
        "posts": len(corpus.posts),
        "published": len(corpus.published),
        "staff": len(corpus.staff),
        "tags": len(corpus.tags),
        "words_min": counts[0] if counts else 0,
        "words_median": counts[len(counts) // 2] if counts else 0,
        "words_max": counts[-1] if counts else 0,
        "words_total": sum(counts),
        "body_bytes_total": sum(len(body.encode()) for body in bodies),
        "posts_with_code": sum(1 for body in bodies if "\n```" in body),
        "posts_with_table": sum(1 for body in bodies if "\n| --- |" in body),
    }


def _yaml_list(items: list[dict[str, str]], keys: tuple[str, ...]) -> str:
    lines = []
    for item in items:
        for position, key in enumerate(keys):
            prefix = "- " if position == 0 else "  "
            lines.append(f"{prefix}{key}: {json.dumps(item[key])}")
    return "\n".join(lines) + "\n"


def render_post(post: GeneratedPost) -> str:
    """One post file: YAML front matter (strings JSON-quoted, valid YAML) and the body."""
    date = post.date.strftime("%Y-%m-%dT%H:%M:%SZ")
    front = [
        "---",
        f"title: {json.dumps(post.title)}",
        f"slug: {post.slug}",
        f"date: {date}",
        f"tags: [{', '.join(post.tags)}]",
        f"author: {post.author}",
        f"dek: {json.dumps(post.dek)}",
        f"status: {post.status}",
        "---",
    ]
    return "\n".join(front) + "\n\n" + post.body + "\n"


def write_corpus(corpus: Corpus, folder: Path) -> Path:
    """Write staff.yaml, tags.yaml and posts/NNNNN-slug.md under `folder`."""
    posts_folder = folder / "posts"
    posts_folder.mkdir(parents=True, exist_ok=True)
    staff_keys = ("slug", "name", "role_title", "department", "kind", "bio")
    (folder / "staff.yaml").write_text(_yaml_list(corpus.staff, staff_keys), encoding="utf-8")
    tag_keys = ("slug", "name", "description")
    (folder / "tags.yaml").write_text(_yaml_list(corpus.tags, tag_keys), encoding="utf-8")
    for number, post in enumerate(corpus.posts, start=1):
        path = posts_folder / f"{number:05d}-{post.slug}.md"
        path.write_text(render_post(post), encoding="utf-8")
    corpus.folder = folder
    return folder
