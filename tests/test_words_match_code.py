"""Words match the code: what the docs and the demo posts tell readers to run exists.

Read: README.md, docs/*.md and the demo content (masthead/demo/content/**): in Markdown,
every inline code span and every fenced block, plus the front matter (a post's title and
dek are shown as plain text on its card); YAML files line by line. Each quote is checked:

* a **command**, `masthead` and its sub-commands, and every `--flag` it uses, against the
  Typer app (click's commands and their params);
* an **API path**, `/api/v1/…`, against the API's OpenAPI document, with its method when
  the text gives one: `POST /api/v1/posts` in one span or line, or a `curl` line (`-X
  METHOD`; with `-d`/`--data` and no `-X` it is a POST; `-I` a HEAD, checked as GET;
  otherwise GET). A placeholder (`{id}`, `$POST_ID`, `ID`, `SLUG`, `…`) may fill a path
  parameter, but a parameter the API types as a number takes only digits or a placeholder
  named like one (`{id}`, `{n}`, `$TASK_ID`, `ID`, `N`), never a slug;
* an **ETag** written as an `If-Match:` or `ETag:` header: the API's `"rev-N"` form;
* an inline **JSON body** given to curl (`-d '{…}'`): every field is in the request
  schema of that call.

docs/api.md's `# example:` blocks are checked for paths but not for methods or bodies:
test_api_docs.py runs them against a live server and checks the status of every call,
and some send a wrong method or a bad body on purpose.

**Still to come.** A quote naming something not built yet passes only inside a passage
that says so in so many words: "still to come" or "not built yet". A passage is the
paragraph, list item, table row or heading the quote sits in; for a fenced block, the
block itself and the paragraph just before it. Any other mention fails, and the failure
lists every offending FILE:LINE with the quoted text and the reason.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from typer.main import get_command

from masthead.actions.public_site import PublicSite
from masthead.cli.main import app
from masthead.web.api.app import API_PREFIX, create_api
from masthead.web.state import AppState
from tests.conftest import settings_for

ROOT = Path(__file__).resolve().parent.parent
STILL_TO_COME = ("still to come", "not built yet")
FENCE = re.compile(r"^\s*(```+|~~~+)")
NEW_PASSAGE = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|\||#{1,6}\s)")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
COMMAND = re.compile(r"(?<![\w/.@$-])masthead(?=[ \t\n]|$)")
TOKEN = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"|\\\n|\n|[^\s'\"]+")
CONTINUATION, END_OF_LINE = "\\\n", "\n"
SHELL_STOPS = {"|", "||", "&&", ";", "&", "masthead"}
ELLIPSES = {"…", "..."}
API_PATH = re.compile(r"/api/v1(?P<rest>(?:/[^\s\"'`<>()\[\]?#,;|\\]*)*)")
SPELLED_METHOD = re.compile(r"(?:^|[\s(`])(GET|POST|PUT|PATCH|DELETE|HEAD)\s+\S*$")
PLACEHOLDER = re.compile(r"\{\w+\}|\$\{?\w+\}?|[A-Z][A-Z0-9_]*|…|\.\.\.")
NUMERIC_NAME = re.compile(r"(?i)^(?:.*_)?(?:id|n|number)$")
HEADER_ETAG = re.compile(r"(?i)\b(?:If-Match|ETag):\s*(?P<value>W/\"[^\"]*\"|\"[^\"]*\"|[^\s'\"]+)")
API_ETAG = re.compile(r'(?:W/)?"(?:rev-(?:\d+|N)|\$\w+)"|\$\w+|…')
CURL_DATA = re.compile(r"^(?:-d|--data|--data-raw|--data-binary|--json)$")


class CliCommand(Protocol):
    """What the scan reads of a click command (from Typer's copy of click, or click itself)."""

    params: list[Any]


@dataclass(frozen=True)
class Quote:
    """One logical line of code (a span, or a command line of a block) and its passage."""

    file: str
    line: int
    text: str
    passage: str
    block: bool = False  # from a fenced block, where a line ends a command
    executed: bool = False  # a docs/api.md example, run by test_api_docs.py

    def line_at(self, offset: int) -> int:
        return self.line + self.text[:offset].count("\n")

    @property
    def marked_to_come(self) -> bool:
        return any(marker in " ".join(self.passage.lower().split()) for marker in STILL_TO_COME)


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    quoted: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: `{self.quoted}`: {self.reason}"


# --- reading the files -------------------------------------------------------------------


def sources() -> list[Path]:
    content = ROOT / "masthead" / "demo" / "content"
    found = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return found + sorted(p for p in content.rglob("*") if p.suffix in {".md", ".yaml"})


def quotes_in(path: Path) -> list[Quote]:
    return quotes_in_text(path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))


def quotes_in_text(name: str, text: str) -> list[Quote]:
    lines = text.split("\n")
    if name.endswith(".yaml"):
        return [Quote(name, n, line, line) for n, line in enumerate(lines, 1)]
    start = _front_matter_end(lines)
    front = [Quote(name, n, line, line) for n, line in enumerate(lines[:start], 1)]
    return front + list(_body_quotes(name, lines, start))


def _front_matter_end(lines: list[str]) -> int:
    if not lines or lines[0] != "---":
        return 0
    return lines.index("---", 1) + 1


def _body_quotes(name: str, lines: list[str], start: int) -> Iterator[Quote]:
    paragraph: list[str] = []
    last: list[str] = []  # the paragraph before a fenced block, which introduces it
    first = index = start
    while index < len(lines):
        line = lines[index]
        if FENCE.match(line):
            yield from _span_quotes(name, first, paragraph)
            end = _fence_end(lines, index)
            yield from _block_quotes(name, index + 2, lines[index + 1 : end], paragraph or last)
            paragraph, last, index = [], [], end + 1
            first = index
            continue
        if not line.strip() or NEW_PASSAGE.match(line):
            yield from _span_quotes(name, first, paragraph)
            last = paragraph or last
            paragraph, first = ([line] if line.strip() else []), index + (not line.strip())
        else:
            paragraph.append(line)
        index += 1
    yield from _span_quotes(name, first, paragraph)


def _fence_end(lines: list[str], opening: int) -> int:
    marker = FENCE.match(lines[opening])
    assert marker is not None
    for index in range(opening + 1, len(lines)):
        if lines[index].strip().startswith(marker.group(1)):
            return index
    return len(lines)


def _span_quotes(name: str, first: int, paragraph: list[str]) -> Iterator[Quote]:
    text = "\n".join(paragraph)
    for span in CODE_SPAN.finditer(text):
        line = first + 1 + text[: span.start()].count("\n")
        yield Quote(name, line, span.group(2), text)


def _block_quotes(name: str, first: int, block: list[str], before: list[str]) -> Iterator[Quote]:
    passage = "\n".join([*before, *block])
    executed = bool(block) and block[0].startswith("# example:")
    for offset, text in _logical_lines(block):
        yield Quote(name, first + offset, text, passage, block=True, executed=executed)


def _logical_lines(block: list[str]) -> Iterator[tuple[int, str]]:
    """Shell lines: a trailing backslash or an open quote carries on to the next line."""
    start, pending = 0, ""
    for offset, line in enumerate(block):
        pending = f"{pending}\n{line}" if pending else line
        if not line.endswith("\\") and not _open_quote(pending):
            yield start, pending
            start, pending = offset + 1, ""
    if pending:
        yield start, pending


def _open_quote(text: str) -> bool:
    """Whether shell text ends inside a quote (an apostrophe in a `#` comment is no quote)."""
    quote, escaped, comment = "", False, False
    for index, char in enumerate(text):
        if comment:
            comment = char != "\n"
        elif escaped or (char == "\\" and quote != "'"):
            escaped = not escaped
        elif char in "'\"" and quote in ("", char):
            quote = "" if quote else char
        elif char == "#" and not quote and (index == 0 or text[index - 1].isspace()):
            comment = True
    return bool(quote)


def all_quotes() -> list[Quote]:
    return [quote for path in sources() for quote in quotes_in(path)]


# --- commands ------------------------------------------------------------------------------


def command_findings(quote: Quote, root: CliCommand) -> Iterator[Finding]:
    for match in COMMAND.finditer(quote.text):
        tokens = _command_tokens(quote.text[match.end() :], quote.block)
        problems = _command_problems(root, ["masthead"], tokens)
        if problems and not quote.marked_to_come:
            quoted = " ".join(["masthead", *tokens[:6], *(["…"] if tokens[6:] else [])])
            for problem in problems:
                yield Finding(quote.file, quote.line_at(match.start()), quoted, problem)


def _command_tokens(rest: str, block: bool) -> list[str]:
    """The words of one command: up to a shell operator, a comment or (in a block) a line end."""
    tokens: list[str] = []
    for raw in TOKEN.findall(rest):
        if raw == CONTINUATION or (raw == END_OF_LINE and not block):
            continue
        if raw in SHELL_STOPS or raw == END_OF_LINE or raw.startswith(("#", ">", "<", "2>")):
            break
        token = raw.strip("[]").rstrip(")`")
        if token:
            tokens.append(token)
        if token != raw.strip("[]"):
            break
    return tokens


def _command_problems(command: CliCommand, path: list[str], tokens: list[str]) -> list[str]:
    flags = [token for token in tokens if _is_flag(token)]
    words = [token for token in tokens if not _is_flag(token)]
    children = _sub_commands(command)
    if children is not None and words and words[0] not in ELLIPSES:
        return _sub_command_problems(command, children, path, tokens)
    known, name = _flag_names(command), " ".join(path)
    return [f"`{name}` has no option {flag}" for flag in flags if flag.split("=")[0] not in known]


def _sub_command_problems(
    group: CliCommand, children: dict[str, CliCommand], path: list[str], tokens: list[str]
) -> list[str]:
    index = next(i for i, token in enumerate(tokens) if not _is_flag(token))
    problems = _command_problems(group, path, tokens[:index])
    for name in re.split(r"\\?\|", tokens[index]):
        child = children.get(name)
        if child is None:
            choices = ", ".join(sorted(children))
            problems.append(f"`{' '.join([*path, name])}` is not a command ({choices})")
        else:
            problems += _command_problems(child, [*path, name], tokens[index + 1 :])
    return problems


def _is_flag(token: str) -> bool:
    return bool(re.match(r"^--?[A-Za-z]", token))


def _sub_commands(command: CliCommand) -> dict[str, CliCommand] | None:
    """A group's sub-commands by name; None for a command that has none."""
    children: dict[str, CliCommand] | None = getattr(command, "commands", None)
    return children


def _flag_names(command: CliCommand) -> set[str]:
    """Every option the command takes (both halves of `--x/--no-x`), and click's `--help`."""
    names = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    return names | {"--help"}


# --- API paths -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    segments: tuple[str, ...]
    methods: frozenset[str]
    numeric: frozenset[str]  # path parameters typed as numbers
    bodies: dict[str, frozenset[str]]  # method -> the fields its JSON body may have

    @property
    def template(self) -> str:
        return API_PREFIX + "/" + "/".join(self.segments)


def routes_of(document: dict[str, Any]) -> list[Route]:
    schemas = document["components"]["schemas"]
    found = [_route(path, item, schemas) for path, item in document["paths"].items()]
    mcp = Route(("mcp",), frozenset({"POST", "GET", "DELETE"}), frozenset(), {})  # the MCP server
    return [*found, Route(("openapi.json",), frozenset({"GET"}), frozenset(), {}), mcp]


def _route(path: str, item: dict[str, Any], schemas: dict[str, Any]) -> Route:
    numeric = {
        parameter["name"]
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and parameter["schema"].get("type") == "integer"
    }
    bodies = {method.upper(): _body_fields(op, schemas) for method, op in item.items()}
    methods = frozenset(method.upper() for method in item)
    return Route(tuple(path.strip("/").split("/")), methods, frozenset(numeric), bodies)


def _body_fields(operation: dict[str, Any], schemas: dict[str, Any]) -> frozenset[str]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return frozenset()
    schema = schemas[content["schema"]["$ref"].rsplit("/", 1)[-1]]
    return frozenset(schema.get("properties", {}))


def path_findings(quote: Quote, routes: list[Route]) -> Iterator[Finding]:
    for match in API_PATH.finditer(quote.text):
        segments = tuple(s for s in match.group("rest").rstrip(".:").split("/") if s)
        method = None if quote.executed else _method(quote.text, match.start())
        problem = _path_problem(segments, method, routes)
        if problem and not quote.marked_to_come:
            quoted = f"{method + ' ' if method else ''}{API_PREFIX}/{'/'.join(segments)}"
            yield Finding(quote.file, quote.line_at(match.start()), quoted, problem)


def _method(text: str, offset: int) -> str | None:
    spelled = SPELLED_METHOD.search(text[:offset])
    if spelled:
        return "GET" if spelled.group(1) == "HEAD" else spelled.group(1)
    tokens = TOKEN.findall(text)
    return _curl_method(tokens) if "curl" in tokens else None


def _curl_method(tokens: list[str]) -> str:
    method = "GET"
    for index, token in enumerate(tokens):
        if token in {"-X", "--request"} and index + 1 < len(tokens):
            return tokens[index + 1].upper()
        if re.fullmatch(r"-[a-zA-Z]*X[A-Z]+", token):
            return token.split("X", 1)[1]
        if token in {"-G", "--get"} or re.fullmatch(r"-[a-zA-Z]*[IG][a-zA-Z]*", token):
            return "GET"
        if token.startswith("--data") or token in {"-d", "--json", "-F", "--form"}:
            method = "POST"
    return method


def _path_problem(segments: tuple[str, ...], method: str | None, routes: list[Route]) -> str:
    if not segments or segments == ("…",) or segments == ("...",):
        return ""  # the API itself: `/api/v1/`
    shaped = [route for route in routes if _fits(segments, route, typed=False)]
    typed = [route for route in shaped if _fits(segments, route, typed=True)]
    if not shaped:
        return "no such path in the API's OpenAPI document"
    if not typed:
        return f"the API takes a number there: {shaped[0].template}"
    if method and not any(method in route.methods for route in typed):
        allowed = ", ".join(sorted(typed[0].methods))
        return f"the API has no {method} on {typed[0].template} (it has {allowed})"
    return ""


def _fits(segments: tuple[str, ...], route: Route, *, typed: bool) -> bool:
    if len(segments) != len(route.segments):
        return False
    return all(
        _segment_fits(s, t, route, typed) for s, t in zip(segments, route.segments, strict=True)
    )


def _segment_fits(segment: str, template: str, route: Route, typed: bool) -> bool:
    if not template.startswith("{"):
        return segment == template
    if not typed or template.strip("{}") not in route.numeric or segment.isdigit():
        return True
    return bool(PLACEHOLDER.fullmatch(segment)) and _numeric_placeholder(segment)


def _numeric_placeholder(segment: str) -> bool:
    return segment in ELLIPSES or bool(NUMERIC_NAME.match(segment.strip("{}$")))


def route_for(segments: tuple[str, ...], routes: list[Route]) -> Route | None:
    return next((route for route in routes if _fits(segments, route, typed=True)), None)


# --- ETags and bodies ----------------------------------------------------------------------


def etag_findings(quote: Quote) -> Iterator[Finding]:
    for match in HEADER_ETAG.finditer(quote.text):
        value = match.group("value")
        if not API_ETAG.fullmatch(value) and not quote.marked_to_come:
            reason = 'the API\'s ETags read "rev-N" (the revision number)'
            yield Finding(quote.file, quote.line_at(match.start()), match.group(0), reason)


def body_findings(quote: Quote, routes: list[Route]) -> Iterator[Finding]:
    tokens = TOKEN.findall(quote.text)
    paths = list(API_PATH.finditer(quote.text))
    if "curl" not in tokens or not paths or quote.executed or quote.marked_to_come:
        return
    segments = tuple(s for s in paths[0].group("rest").split("/") if s)
    route, method = route_for(segments, routes), _curl_method(tokens)
    if route is None:
        return  # an unknown path is reported by the path check
    allowed = route.bodies.get(method, frozenset())
    for body in _inline_bodies(tokens):
        for field in sorted(set(body) - allowed):
            reason = (
                f"{method} {route.template} takes no field {field!r} (it takes {sorted(allowed)})"
            )
            yield Finding(quote.file, quote.line_at(paths[0].start()), json.dumps(body), reason)


def _inline_bodies(tokens: list[str]) -> Iterator[dict[str, Any]]:
    for flag, value in itertools.pairwise(tokens):
        if not CURL_DATA.match(flag) or value[:1] not in {"'", '"'}:
            continue
        text = value[1:-1] if value[0] == "'" else value[1:-1].replace('\\"', '"')
        try:
            body = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(body, dict):
            yield body


# --- the tests -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def routes() -> list[Route]:
    """The API's routes, from the app's OpenAPI document (built without a database)."""
    settings = settings_for("sqlite://")
    state = AppState(settings=settings, site=PublicSite(settings))
    return routes_of(create_api(state).openapi())


CLI = get_command(app)
QUOTES = all_quotes()


def _report(findings: list[Finding]) -> str:
    return f"{len(findings)} quote(s) do not match the code:\n" + "\n".join(map(str, findings))


def test_the_scan_finds_the_quotes() -> None:
    commands = [q for q in QUOTES if COMMAND.search(q.text)]
    paths = [q for q in QUOTES if API_PATH.search(q.text)]
    assert len(commands) >= 60, "too few `masthead …` quotes found: is the scanner broken?"
    assert len(paths) >= 60, "too few `/api/v1/…` quotes found: is the scanner broken?"
    assert {q.file for q in commands} >= {"README.md", "docs/api.md", "docs/queue.md"}


def test_every_quoted_command_exists() -> None:
    findings = [finding for quote in QUOTES for finding in command_findings(quote, CLI)]
    assert not findings, _report(findings)


def test_every_quoted_api_path_exists(routes: list[Route]) -> None:
    findings = [finding for quote in QUOTES for finding in path_findings(quote, routes)]
    assert not findings, _report(findings)


def test_every_quoted_etag_has_the_api_form() -> None:
    findings = [finding for quote in QUOTES for finding in etag_findings(quote)]
    assert not findings, _report(findings)


def test_every_inline_request_body_fits_its_schema(routes: list[Route]) -> None:
    findings = [finding for quote in QUOTES for finding in body_findings(quote, routes)]
    assert not findings, _report(findings)


# --- the scanner itself --------------------------------------------------------------------

SAMPLE = """\
---
dek: "What masthead deploy does."
---
Run `masthead posts list --json`, then `masthead ops teleport`.

* `masthead ops teleport --out x` is still to come.

Then:

```sh
curl -X POST "$BASE/api/v1/posts/$POST_ID/publish" \\
  -H 'If-Match: "r3"'
curl -s -X POST "$BASE/api/v1/posts/some-slug/submit"
curl -s "$BASE/api/v1/posts/some-slug/checks" -d '{"publish_at": "now"}'
curl -s "$BASE/api/v1/posts/12/schedule" -d '{"publish_at": "now"}'
masthead worker --id w1 &
```
"""


def _sample_findings(routes: list[Route]) -> list[str]:
    quotes = quotes_in_text("sample.md", SAMPLE)
    checks = (
        *(command_findings(quote, CLI) for quote in quotes),
        *(path_findings(quote, routes) for quote in quotes),
        *(etag_findings(quote) for quote in quotes),
        *(body_findings(quote, routes) for quote in quotes),
    )
    return [str(finding) for found in checks for finding in found]


def test_the_scanner_flags_what_it_should(routes: list[Route]) -> None:
    found = _sample_findings(routes)
    expected = [
        "sample.md:2: `masthead deploy does.`: `masthead deploy` is not a command",
        "sample.md:4: `masthead ops teleport`: `masthead ops teleport` is not a command",
        "sample.md:16: `masthead worker --id w1`: `masthead worker` has no option --id",
        "sample.md:13: `POST /api/v1/posts/some-slug/submit`: the API takes a number there",
        "sample.md:14: `POST /api/v1/posts/some-slug/checks`: no such path",
        'sample.md:12: `If-Match: "r3"`: the API\'s ETags read "rev-N"',
        'sample.md:15: `{"publish_at": "now"}`: POST /api/v1/posts/{post_id}/schedule takes no',
    ]
    assert len(found) == len(expected), "\n".join(found)
    for finding, start in zip(found, expected, strict=True):
        assert finding.startswith(start), f"{finding!r} should start {start!r}"
