"""Changing the site settings: admins only, stored in the database, seen by every server.

A value of None resets a setting to its configured default. A change is a
`settings.changed` event naming the public pages it touched (a new title: every page).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection

from masthead.actions.auth import require_admin
from masthead.actions.context import Call, record_audit
from masthead.actions.gates import GATES_SETTING, gate_severities, valid_severities
from masthead.actions.lifecycle import PublicChange, record_event
from masthead.actions.site_info import SITE_KEYS, current_site, default_values, site_values
from masthead.domain.events import EventType, NewEvent
from masthead.errors import FieldProblem, InvalidInput
from masthead.settings import Settings
from masthead.site.changes import Scope
from masthead.site.presentation import PRESENTATION_DEFAULTS, presentation_problem
from masthead.store.site_settings import load_overrides, reset_overrides, save_overrides

__all__ = ["MAX_TEXT", "all_settings", "update_site_settings"]

MAX_TEXT = 300


def _problems(changes: dict[str, Any]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for key, value in changes.items():
        if key not in SITE_KEYS:
            problems.append(FieldProblem(key, "not a site setting", "unknown_field"))
        elif value is None:
            continue  # back to the configured default
        elif key in PRESENTATION_DEFAULTS:
            problems += _presentation_problems(key, value)
        elif key == "page_size":
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
                problems.append(FieldProblem(key, "a whole number from 1 to 100", "out_of_range"))
        elif not isinstance(value, str) or len(value) > MAX_TEXT:
            problems.append(FieldProblem(key, f"text of at most {MAX_TEXT} characters", "invalid"))
        elif key == "timezone" and not _known_zone(value):
            problems.append(FieldProblem(key, f"unknown time zone {value!r}", "invalid"))
        elif key == "title" and not value.strip():
            problems.append(FieldProblem(key, "the site needs a title", "required"))
    return problems


def _presentation_problems(key: str, value: Any) -> list[FieldProblem]:
    wrong = presentation_problem(key, value)
    return [] if wrong is None else [FieldProblem(key, wrong, "invalid")]


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def all_settings(connection: Connection, settings: Settings) -> dict[str, Any]:
    """Every site setting, the gates' severities too."""
    severities = {code: severity.value for code, severity in gate_severities(connection).items()}
    return {**site_values(connection, settings), GATES_SETTING: severities}


def update_site_settings(
    connection: Connection, call: Call, changes: dict[str, Any]
) -> dict[str, Any]:
    """Store the given settings (None: reset to the default); answer every setting.

    `gates` takes {code: "block" | "warn"} for the gates to change (None: every gate back
    to its default severity).
    """
    require_admin(call.actor)
    changes = dict(changes)
    gates = changes.pop(GATES_SETTING, _UNSET)
    problems = _problems(changes)
    if problems:
        raise InvalidInput(problems)
    gates_changed = _change_gates(connection, call, gates) if gates is not _UNSET else {}
    _change_pages(connection, call, changes, gates_changed)
    return all_settings(connection, call.settings)


_UNSET = object()


def _change_gates(connection: Connection, call: Call, gates: Any) -> dict[str, Any]:
    """Store the severities; answer what changed, {code: {before, after}}."""
    before = gate_severities(connection)
    if gates is None:
        reset_overrides(connection, [GATES_SETTING])
    else:
        stored = load_overrides(connection).get(GATES_SETTING) or {}
        merged = {**stored, **valid_severities(gates)}
        save_overrides(connection, {GATES_SETTING: merged}, call.at)
    after = gate_severities(connection)
    return {
        code: {"before": before[code].value, "after": after[code].value}
        for code in after
        if before[code] != after[code]
    }


def _change_pages(
    connection: Connection, call: Call, changes: dict[str, Any], gates: dict[str, Any]
) -> None:
    """The settings pages show: stored, audited, and the event naming every page touched."""
    before = site_values(connection, call.settings)
    defaults = default_values(call.settings)
    after = {**before, **{key: defaults[key] if v is None else v for key, v in changes.items()}}
    changed = {
        key: {"before": before[key], "after": after[key]}
        for key in SITE_KEYS
        if before[key] != after[key]
    }
    change = PublicChange(connection, call, Scope.everything()) if changed else None
    save_overrides(connection, {k: v for k, v in changes.items() if v is not None}, call.at)
    reset_overrides(connection, [key for key, value in changes.items() if value is None])
    audited = {**changes, **({GATES_SETTING: gates} if gates else {})}
    record_audit(connection, call, "settings.change", "settings", "site", **audited)
    facts = {"changed": {**changed, **({GATES_SETTING: gates} if gates else {})}}
    if change is not None:
        state = change.after(current_site(connection, call.settings))
        change.record(EventType.SETTINGS_CHANGED, "settings", "site", facts=facts, after=state)
    elif gates:  # the gates' severities show on no page
        record_event(
            connection, call, NewEvent(EventType.SETTINGS_CHANGED, "settings", "site", None, facts)
        )
