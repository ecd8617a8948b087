"""Staff, tokens and `me`: who works here, and how they sign their calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from masthead.actions import auth, staff
from masthead.actions.cursors import decode_cursor, encode_cursor
from masthead.domain.staff import StaffMember
from masthead.errors import NotFound
from masthead.web.api.deps import CallDep, ReadDep, WriteDep
from masthead.web.api.schemas import (
    MeOut,
    RowId,
    StaffCreate,
    StaffList,
    StaffOut,
    StaffPatch,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenOut,
    staff_out,
    token_out,
)
from masthead.web.idempotency import keep_secret

router = APIRouter(tags=["staff"])


@router.get("/me", response_model=MeOut, summary="Who this token belongs to")
def me(call: CallDep, connection: ReadDep) -> MeOut:
    if call.actor.staff_id is None:
        raise NotFound("this caller is not a staff member")
    member = staff.find_staff(connection, call.actor.slug)
    return MeOut(**staff_out(member).model_dump(), token_id=call.actor.token_id)


@router.get("/staff", response_model=StaffList, summary="Every staff member")
def list_staff(call: CallDep, connection: ReadDep) -> StaffList:
    return StaffList(items=[staff_out(member) for member in staff.all_staff(connection)])


@router.post("/staff", status_code=201, response_model=StaffOut, summary="Add a staff member")
def add_staff(payload: StaffCreate, call: CallDep, connection: WriteDep) -> StaffOut:
    member = StaffMember(**payload.model_dump())
    return staff_out(staff.add_staff(connection, call, member))


@router.get("/staff/{slug}", response_model=StaffOut, summary="One staff member")
def get_staff(slug: str, call: CallDep, connection: ReadDep) -> StaffOut:
    return staff_out(staff.find_staff(connection, slug))


@router.patch(
    "/staff/{slug}", response_model=StaffOut, summary="Change a profile, role or standing"
)
def change_staff(slug: str, payload: StaffPatch, call: CallDep, connection: WriteDep) -> StaffOut:
    changes = staff.StaffChanges(**payload.model_dump())
    return staff_out(staff.change_staff(connection, call, slug, changes))


@router.get("/tokens", response_model=TokenList, summary="Every token (never the secrets)")
def list_tokens(
    call: CallDep,
    connection: ReadDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> TokenList:
    found = auth.list_tokens(
        connection, call.actor, after_id=decode_cursor(cursor), limit=limit + 1
    )
    page = found[:limit]
    return TokenList(
        items=[TokenOut(**token_out(record)) for record in page],
        next_cursor=encode_cursor(page[-1].id) if len(found) > limit else None,
    )


@router.post("/tokens", status_code=201, response_model=TokenCreated, summary="Issue a token")
def issue_token(
    payload: TokenCreate, call: CallDep, connection: WriteDep, request: Request
) -> TokenCreated:
    """The secret is answered this once; a replay of the call (Idempotency-Key) answers null."""
    keep_secret(request, "token")
    issued = auth.issue_token(connection, call, payload.staff, payload.name, payload.scope)
    return TokenCreated(**token_out(issued.record), token=issued.secret)


@router.delete("/tokens/{token_id}", response_model=TokenOut, summary="Revoke a token")
def revoke_token(token_id: RowId, call: CallDep, connection: WriteDep) -> TokenOut:
    return TokenOut(**token_out(auth.revoke_token(connection, call, token_id)))
