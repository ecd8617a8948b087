"""`masthead mcp`: the stdio bridge to a site's MCP server (`masthead.mcp.bridge`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer

from masthead.cli.output import errors_to_exit_codes
from masthead.errors import MastheadError

__all__ = ["mcp_command"]


def mcp_command(
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            help="Read the staff token from this file instead of MASTHEAD_TOKEN.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Serve MCP on stdin/stdout for an agent client, handing every call to the site at
    MASTHEAD_URL (with MASTHEAD_EDGE_SECRET and the token). Needs no database."""
    from masthead.mcp.bridge import BridgeConfig, run_bridge

    with errors_to_exit_codes():
        config = BridgeConfig.from_environment(token_file)
        try:
            anyio.run(run_bridge, config)
        except Exception as error:  # the site refused or is away: say why, in one line
            raise MastheadError(
                f"the site at {config.endpoint} did not answer as an MCP server: {_reason(error)}",
                code="site_unreachable",
            ) from error


def _reason(error: BaseException) -> str:
    """The first leaf of an exception group, as one line."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}".splitlines()[0]
