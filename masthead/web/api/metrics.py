"""`GET /api/v1/metrics`: Prometheus' text format, for admins (and their scrapers)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from masthead.actions.metrics import read_figures
from masthead.web.api.deps import ReadDep, ScrapeDep
from masthead.web.metrics import CONTENT_TYPE, exposition
from masthead.web.state import app_state

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    summary="Requests, publishes, verifications, task runs and the queue (admin or scrape token)",
)
def metrics(call: ScrapeDep, connection: ReadDep, request: Request) -> Response:
    figures = read_figures(connection, call.actor, datetime.now(UTC))
    body = exposition(app_state(request).metrics, figures)
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
