"""Each tool's output schema (JSON Schema): the shapes of `masthead.actions.shapes`."""

from __future__ import annotations

from typing import Any

from masthead.domain.posts import PostStatus

__all__ = [
    "APPROVAL",
    "CHANGE",
    "CONTEXT",
    "GATES",
    "POST",
    "POSTS",
    "PREVIEW",
    "RECEIPT",
    "REVISIONS",
    "STAFF_LIST",
    "SUBMITTED",
    "TAG",
    "TAGS",
    "TASK",
]

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
MOMENT: Schema = {"type": "string", "format": "date-time"}


def maybe(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def strings() -> Schema:
    return {"type": "array", "items": STRING}


def record(description: str = "", /, **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "required": list(properties)}
    if description:
        schema["description"] = description
    return schema


def items_of(item: Schema, *, cursor: bool = False) -> Schema:
    properties: dict[str, Schema] = {"items": {"type": "array", "items": item}}
    if cursor:
        properties["next_cursor"] = maybe(STRING)
    return record(**properties)


CONTENT = {
    "slug": STRING,
    "title": STRING,
    "dek": STRING,
    "body": STRING,
    "tags": strings(),
    "authors": strings(),
}
POST = record(
    "A post's working copy.",
    id=INTEGER,
    **CONTENT,
    status={"type": "string", "enum": [status.value for status in PostStatus]},
    published_at=maybe(MOMENT),
    revision=INTEGER,
    published_revision=maybe(INTEGER),
    body_html=STRING,
    reading_time=INTEGER,
    url=STRING,
    created_at=MOMENT,
    updated_at=MOMENT,
)
POSTS = items_of(POST, cursor=True)
GATE_RESULT = record(
    code=STRING,
    severity={"type": "string", "enum": ["block", "warn"]},
    message=STRING,
    field=maybe(STRING),
    line=maybe(INTEGER),
)
GATES = record(items={"type": "array", "items": GATE_RESULT}, blocking=BOOLEAN)
SUBMITTED = record(post=POST, gates={"type": "array", "items": GATE_RESULT})
PREVIEW = record(html=STRING, word_count=INTEGER, reading_time=INTEGER)
REVISION = record(
    number=INTEGER,
    **CONTENT,
    body_html=STRING,
    reading_time=INTEGER,
    source=STRING,
    created_at=MOMENT,
    created_by=maybe(STRING),
    token_id=maybe(INTEGER),
)
REVISIONS = items_of(REVISION)
APPROVAL = record(staff=STRING, kind=STRING, revision=INTEGER, at=MOMENT)
CHECK = record(
    name=STRING, ok=BOOLEAN, url=STRING, status=maybe(INTEGER), duration_ms={"type": "number"}
)
RECEIPT = record(
    "What a publish, unpublish or archive did, and what the live site showed.",
    id=INTEGER,
    post=INTEGER,
    revision=INTEGER,
    action=STRING,
    state={"type": "string", "enum": ["pending", "verified", "unverified"]},
    published_by={"type": "object"},
    approval=maybe({"type": "object"}),
    gates={"type": "array", "items": {"type": "object"}},
    flipped_at=MOMENT,
    pages=strings(),
    attempts={"type": "array", "items": {"type": "object"}},
    checks={"type": "array", "items": CHECK},
    verified_at=maybe(MOMENT),
    seconds_to_verified=maybe({"type": "number"}),
)
CHANGE = record(
    receipt=maybe(RECEIPT),
    post=POST,
)
TAG = record(slug=STRING, name=STRING, description=STRING)
TAGS = items_of(TAG)
STAFF = record(
    slug=STRING,
    name=STRING,
    role_title=STRING,
    department=STRING,
    kind=STRING,
    role=STRING,
    bio=STRING,
    active=BOOLEAN,
)
STAFF_LIST = items_of(STAFF)
TASK = record(
    "A task of the queue, with every run it has had.",
    id=INTEGER,
    kind=STRING,
    state=STRING,
    payload={"type": "object"},
    runs={"type": "array", "items": {"type": "object"}},
)
CONTEXT = record(
    "Who you are, what you may do, and the site's rules: the first call to make.",
    me={"type": "object", "properties": {**STAFF["properties"], "token_id": maybe(INTEGER)}},
    role=STRING,
    tools=strings(),
    site={"type": "object"},
    gates={"type": "array", "items": record(code=STRING, severity=STRING, meaning=STRING)},
    tags={"type": "array", "items": TAG},
    limits={"type": "object"},
)
