"""Old addresses that redirect to posts: listed, added and removed by an admin."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from masthead.actions import redirects
from masthead.actions.shapes import redirect_shape
from masthead.domain.redirects import MAX_OLD_PATH
from masthead.web.api.deps import CallDep, ReadDep, WriteDep
from masthead.web.api.schemas import Strict

router = APIRouter(tags=["redirects"])


class RedirectOut(BaseModel):
    path: str
    slug: str
    location: str
    created_at: datetime


class RedirectList(BaseModel):
    items: list[RedirectOut]


class RedirectCreate(Strict):
    path: str = Field(min_length=1, max_length=MAX_OLD_PATH)
    slug: str = Field(min_length=1, max_length=80)


@router.get("/redirects", response_model=RedirectList, summary="Every old address")
def list_redirects(call: CallDep, connection: ReadDep) -> RedirectList:
    found = redirects.list_redirects(connection, call.actor)
    return RedirectList(items=[RedirectOut(**redirect_shape(item)) for item in found])


@router.post("/redirects", status_code=201, response_model=RedirectOut, summary="Add one")
def add_redirect(payload: RedirectCreate, call: CallDep, connection: WriteDep) -> RedirectOut:
    made = redirects.add_path_redirect(connection, call, payload.path, payload.slug)
    return RedirectOut(**redirect_shape(made))


@router.delete("/redirects", status_code=204, summary="Remove one (the path as a query)")
def remove_redirect(
    call: CallDep,
    connection: WriteDep,
    path: str = Query(min_length=1, max_length=MAX_OLD_PATH),
) -> Response:
    redirects.remove_path_redirect(connection, call, path)
    return Response(status_code=204)
