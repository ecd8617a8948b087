"""Resources an agent can read in context: a post's Markdown, the gate table, the docs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import mcp.types as types

from masthead.actions import drafts, gates
from masthead.domain.gates import GATES
from masthead.errors import NotFound
from masthead.mcp.gateway import Gateway

__all__ = ["DOCS", "list_resources", "list_templates", "read_resource"]

DOCS_FOLDER = Path(__file__).resolve().parent.parent.parent / "docs"
DOCS = {"api.md": "The internal API", "publishing.md": "Publishing: lifecycle, gates, receipts"}
GATES_URI = "masthead://gates"
POST_TEMPLATE = "masthead://posts/{post_id}.md"
POST_URI = re.compile(r"masthead://posts/([1-9][0-9]{0,9})\.md")


def _docs() -> list[types.Resource]:
    return [
        types.Resource(
            name=name,
            title=title,
            uri=f"masthead://docs/{name}",
            mime_type="text/markdown",
        )
        for name, title in DOCS.items()
        if (DOCS_FOLDER / name).is_file()
    ]


async def list_resources(_ctx: Any, _params: Any) -> types.ListResourcesResult:
    gate_table = types.Resource(
        name="gates",
        title="The gate table: every gate's code, severity on this site and meaning",
        uri=GATES_URI,
        mime_type="application/json",
    )
    return types.ListResourcesResult(resources=[gate_table, *_docs()])


async def list_templates(_ctx: Any, _params: Any) -> types.ListResourceTemplatesResult:
    template = types.ResourceTemplate(
        name="post",
        title="A post's working copy as Markdown, with its front matter",
        uri_template=POST_TEMPLATE,
        mime_type="text/markdown",
    )
    return types.ListResourceTemplatesResult(resource_templates=[template])


async def read_resource(gateway: Gateway, uri: str) -> types.ReadResourceResult:
    if uri == GATES_URI:
        text = await gateway.read(_gate_table)
        return _text(uri, text, "application/json")
    for name in DOCS:
        if uri == f"masthead://docs/{name}" and (DOCS_FOLDER / name).is_file():
            return _text(uri, (DOCS_FOLDER / name).read_text(encoding="utf-8"), "text/markdown")
    matched = POST_URI.fullmatch(uri)
    if matched is None:
        raise NotFound(f"no resource {uri!r}")
    post_id = int(matched.group(1))
    actor = gateway.call.actor
    post = await gateway.read(lambda connection: drafts.find_post(connection, actor, post_id))
    content = post.content
    front = {
        "title": content.title,
        "slug": content.slug,
        "dek": content.dek,
        "tags": list(content.tags),
        "authors": list(content.authors),
        "status": post.status.value,
        "revision": post.revision,
    }
    head = "\n".join(f"{key}: {json.dumps(value)}" for key, value in front.items())
    return _text(uri, f"---\n{head}\n---\n\n{content.body}", "text/markdown")


def _gate_table(connection: Any) -> str:
    severities = gates.gate_severities(connection)
    table = [
        {"code": gate.code, "severity": severities[gate.code].value, "meaning": gate.meaning}
        for gate in GATES
    ]
    return json.dumps(table, indent=2)


def _text(uri: str, text: str, mime_type: str) -> types.ReadResourceResult:
    return types.ReadResourceResult(
        contents=[types.TextResourceContents(uri=uri, text=text, mime_type=mime_type)]
    )
