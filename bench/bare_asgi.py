"""The yardstick of the render cache: a bare ASGI app answering fixed bytes, on the server
`masthead serve` runs (uvicorn with Masthead's bounded-head protocol).

    python -m bench.bare_asgi --port P --pages DIR

DIR holds `pages.json` ({path: [file, content type]}) and the files; every other path
is a 404 (`/healthz` aside). No logging, metrics, security headers or request id: only
what a server must do.
"""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path

from starlette.types import Receive, Scope, Send

from masthead.settings import Settings
from masthead.web.server import run_server

__all__ = ["BarePages"]


class BarePages:
    def __init__(self, folder: Path) -> None:
        manifest = json.loads((folder / "pages.json").read_text(encoding="utf-8"))
        self.pages = {
            path: (
                (folder / file).read_bytes(),
                [
                    (b"content-type", kind.encode()),
                    (b"content-length", str((folder / file).stat().st_size).encode()),
                ],
            )
            for path, (file, kind) in manifest.items()
        }
        self.pages["/healthz"] = (b"ok\n", [(b"content-type", b"text/plain")])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        found = self.pages.get(scope["path"])
        if found is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        body, headers = found
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_asgi")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pages", type=Path, required=True)
    options = parser.parse_args()
    listening = socket.create_server(("127.0.0.1", options.port))
    run_server(BarePages(options.pages), Settings(), listening)  # type: ignore[call-arg]


if __name__ == "__main__":
    main()
