"""Tags, site settings and the Markdown preview."""

from __future__ import annotations

from fastapi import APIRouter, Response

from masthead.actions import site_settings, tags
from masthead.actions.auth import require_admin
from masthead.actions.drafts import preview
from masthead.domain.staff import Tag
from masthead.web.api.deps import CallDep, ReadDep, SettingsDep, WriteDep
from masthead.web.api.schemas import (
    RenderIn,
    RenderOut,
    SiteSettings,
    SiteSettingsPatch,
    TagCreate,
    TagList,
    TagOut,
    TagPatch,
    tag_out,
)

router = APIRouter()


@router.get("/tags", response_model=TagList, tags=["tags"], summary="Every tag")
def list_tags(call: CallDep, connection: ReadDep) -> TagList:
    return TagList(items=[tag_out(tag) for tag in tags.all_tags(connection)])


@router.post("/tags", status_code=201, response_model=TagOut, tags=["tags"], summary="Add a tag")
def add_tag(payload: TagCreate, call: CallDep, connection: WriteDep) -> TagOut:
    return tag_out(tags.add_tag(connection, call, Tag(**payload.model_dump())))


@router.get("/tags/{slug}", response_model=TagOut, tags=["tags"], summary="One tag")
def get_tag(slug: str, call: CallDep, connection: ReadDep) -> TagOut:
    return tag_out(tags.find_tag(connection, slug))


@router.patch("/tags/{slug}", response_model=TagOut, tags=["tags"], summary="Rename a tag")
def change_tag(slug: str, payload: TagPatch, call: CallDep, connection: WriteDep) -> TagOut:
    return tag_out(tags.change_tag(connection, call, slug, payload.name, payload.description))


@router.delete("/tags/{slug}", status_code=204, tags=["tags"], summary="Delete an unused tag")
def delete_tag(slug: str, call: CallDep, connection: WriteDep) -> Response:
    tags.delete_tag(connection, call, slug)
    return Response(status_code=204)


@router.post("/render", response_model=RenderOut, tags=["posts"], summary="Preview Markdown")
def render(payload: RenderIn, call: CallDep) -> RenderOut:
    rendered = preview(payload.body)
    return RenderOut(
        html=rendered.html, word_count=rendered.word_count, reading_time=rendered.reading_time
    )


@router.get("/settings", response_model=SiteSettings, tags=["settings"], summary="Site settings")
def get_settings(call: CallDep, connection: ReadDep, settings: SettingsDep) -> SiteSettings:
    require_admin(call.actor)
    return SiteSettings(**site_settings.all_settings(connection, settings))


@router.patch("/settings", response_model=SiteSettings, tags=["settings"], summary="Change them")
def change_settings(
    payload: SiteSettingsPatch, call: CallDep, connection: WriteDep
) -> SiteSettings:
    """Only the fields sent change; a field sent as null goes back to its configured default."""
    changes = payload.model_dump(exclude_unset=True)
    values = site_settings.update_site_settings(connection, call, changes)
    return SiteSettings(**values)
