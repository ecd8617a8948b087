"""The MCP server: tools shaped by the caller's role, each call run through the actions.

Built once per application (`build_server`); every HTTP request hands it that request's
`Gateway` in its scope's state, under `GATEWAY`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import replace
from importlib import metadata
from typing import Any

import mcp.types as types
from mcp.server import Server, ServerRequestContext
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from masthead.actions.receipts import require_short_wait
from masthead.actions.shapes import receipt_shape
from masthead.errors import MastheadError, PreconditionRequired
from masthead.mcp import resources
from masthead.mcp.gateway import Gateway, Keyed, Written
from masthead.mcp.refusals import refusal, schema_refusal
from masthead.mcp.tools import TOOLS, Tool, jsonable, tools_for
from masthead.settings import Settings

__all__ = ["GATEWAY", "REPLAYED", "build_server", "key_digest"]

GATEWAY = "masthead_mcp_gateway"
"""Where a request's gateway is kept (`scope["state"]`)."""
REPLAYED = "masthead/replayed"
"""The result `_meta` flag of an answer replayed under its idempotency key."""
INSTRUCTIONS = """\
Masthead's MCP server: the same actions, roles and rules as its internal API. Call \
get_context first. Every change to a post names the revision it is based on (`revision`, \
from get_post); pass an `idempotency_key` to every write so that a retry is safe. A refused \
call is a tool error whose structured content has a stable `code` (docs/mcp.md)."""
log = logging.getLogger("masthead.mcp")

Context = ServerRequestContext[Any, Any]


def build_server() -> Server[Any]:
    return Server(
        "masthead",
        version=_version(),
        title="Masthead",
        instructions=INSTRUCTIONS,
        get_tool_input_schema=input_schema,
        on_list_tools=_list_tools,
        on_call_tool=_call_tool,
        on_list_resources=resources.list_resources,
        on_list_resource_templates=resources.list_templates,
        on_read_resource=_read_resource,
    )


def _version() -> str:
    try:
        return metadata.version("masthead")
    except metadata.PackageNotFoundError:
        return ""


def gateway_of(ctx: Context) -> Gateway:
    request = ctx.request
    gateway: Gateway | None = None
    if request is not None:
        gateway = request.scope.get("state", {}).get(GATEWAY)
    if gateway is None:
        raise RuntimeError("the MCP server runs only behind masthead's own HTTP endpoint")
    return gateway


@functools.cache
def input_schema(name: str) -> dict[str, Any] | None:
    """A tool's input schema (the same for every caller), made once."""
    tool = TOOLS.get(name)
    return None if tool is None else tool.arguments.model_json_schema()


def tool_info(tool: Tool) -> types.Tool:
    return types.Tool(
        name=tool.name,
        description=tool.description,
        input_schema=input_schema(tool.name) or {},
        output_schema=tool.output,
        annotations=types.ToolAnnotations(
            read_only_hint=not tool.writes,
            destructive_hint=tool.destructive,
            idempotent_hint=tool.idempotent,
            open_world_hint=False,
        ),
    )


async def _list_tools(
    ctx: Context, _params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    role = gateway_of(ctx).call.actor.role
    return types.ListToolsResult(tools=[tool_info(tool) for tool in tools_for(role)])


async def _call_tool(ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
    gateway = gateway_of(ctx)
    tool = TOOLS.get(params.name)
    if tool is None:
        detail = f"no tool named {params.name!r}; list_tools names every tool you may use"
        return _result(Written({"code": "not_found", "kind": "not_found", "detail": detail}, True))
    try:
        args = tool.arguments.model_validate(params.arguments or {})
    except ValidationError as error:
        written = Written(schema_refusal(error), True)
    else:
        written = await run_tool(gateway, tool, args)
    fields = {"tool": tool.name, "refused": written.body["code"] if written.refused else None}
    log.info("tool call", extra={**fields, "request_id": gateway.call.request_id})
    return _result(written)


async def run_tool(gateway: Gateway, tool: Tool, args: BaseModel) -> Written:
    """Run one validated call: read, or write (keyed or not), then wait for a receipt."""
    key = getattr(args, "idempotency_key", None)
    call = replace(gateway.call, idempotency_key=key, base_revision=getattr(args, "revision", None))

    def work(connection: Connection) -> dict[str, Any]:
        _guard(tool, args, call.settings)
        return tool.run(connection, call, args)

    try:
        if not tool.writes:
            return Written(await gateway.read(work), refused=False)
        keyed = None if key is None else Keyed(key, key_digest(tool, args))
        written = await gateway.write(work, keyed)
    except Exception as error:
        return Written(_failure(tool, error), refused=True)
    if tool.settles and not written.refused and not written.replayed:
        return await _settled(gateway, written, getattr(args, "wait_seconds", 0.0))
    return written


def _guard(tool: Tool, args: BaseModel, settings: Settings) -> None:
    """The API's preconditions: a change names its revision; a wait ends before the lock."""
    if tool.changes_post and getattr(args, "revision", None) is None:
        raise PreconditionRequired(
            "pass `revision`: the revision of the post your change is based on (get_post)"
        )
    require_short_wait(getattr(args, "wait_seconds", 0.0), settings, "wait_seconds")


async def _settled(gateway: Gateway, written: Written, seconds: float) -> Written:
    receipt = written.body.get("receipt")
    if not seconds or receipt is None or receipt["state"] != "pending":
        return written
    settled = await gateway.settle(receipt["id"], seconds)
    return replace(written, body={**written.body, "receipt": jsonable(receipt_shape(settled))})


def key_digest(tool: Tool, args: BaseModel) -> str:
    """What a key was used for: the tool and its arguments, the key itself aside."""
    asked = args.model_dump(mode="json", exclude={"idempotency_key"})
    text = json.dumps({"tool": tool.name, "arguments": asked}, sort_keys=True)
    return hashlib.sha256(f"mcp\n{text}".encode()).hexdigest()


def _failure(tool: Tool, error: Exception) -> dict[str, Any]:
    if isinstance(error, MastheadError):
        return refusal(error)
    if isinstance(error, IntegrityError):
        detail = "the change clashed with another one made at the same time; read again and retry"
        return refusal(MastheadError(detail, code="conflict"))
    if isinstance(error, OperationalError | PoolTimeout):
        log.warning("database unavailable", exc_info=error)
        return refusal(
            MastheadError("the database is busy or away; retry soon", code="database_unavailable")
        )
    log.exception("unexpected error in tool %s", tool.name, exc_info=error)
    return refusal(
        MastheadError("something went wrong on our side; it was logged", code="internal_error")
    )


def _result(written: Written) -> types.CallToolResult:
    meta = {REPLAYED: True} if written.replayed else None
    text = json.dumps(written.body, separators=(",", ":"))
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content=written.body,
        is_error=written.refused,
        _meta=meta,
    )


async def _read_resource(
    ctx: Context, params: types.ReadResourceRequestParams
) -> types.ReadResourceResult:
    gateway = gateway_of(ctx)
    return await resources.read_resource(gateway, str(params.uri))
