"""`masthead ops rotate-edge-secret`: a new edge secret without a moment with none.

Step one adds a new secret (its digest) beside the ones in use: every server accepts both
at once, without a restart, since the edge guard reads the stored digests. `--finish`
retires every stored secret but the newest, in one transaction. Secrets from
`MASTHEAD_EDGE_SECRETS` are only reported: the operator alone can change them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from masthead.actions.auth import require_admin
from masthead.actions.context import Call, record_audit
from masthead.actions.edge import add_edge_secret, new_edge_secret
from masthead.store.edge_secrets import active_secrets, retire_digest

__all__ = ["Rotation", "finish_rotation", "start_rotation"]

LABEL = "rotation"


@dataclass(frozen=True)
class Rotation:
    step: str  # `start` or `finish`
    dry_run: bool
    secret: str | None = None  # the new secret (step one), shown once
    added: str | None = None  # its label
    retired: list[str] = field(default_factory=list)  # labels of the secrets retired
    stored: int = 0  # stored secrets accepted after this step
    environment: int = 0  # secrets from MASTHEAD_EDGE_SECRETS, never changed here

    def as_dict(self) -> dict[str, Any]:
        actions: list[dict[str, Any]] = []
        if self.added:
            actions.append({"action": "add", "label": self.added, "done": not self.dry_run})
        actions += [
            {"action": "retire", "label": label, "done": not self.dry_run} for label in self.retired
        ]
        return {
            "ok": True,
            "step": self.step,
            "dry_run": self.dry_run,
            "secret": self.secret,
            "actions": actions,
            "counts": {
                "added": 1 if self.added else 0,
                "retired": len(self.retired),
                "stored": self.stored,
                "environment": self.environment,
            },
        }


def start_rotation(connection: Connection, call: Call, *, dry_run: bool = False) -> Rotation:
    """Add a new secret beside those in use (in the caller's transaction)."""
    require_admin(call.actor)
    label = f"{LABEL} {call.at.isoformat(timespec='seconds')}"
    environment = len(call.settings.edge_secret_list)
    stored = len(active_secrets(connection))
    if dry_run:
        return Rotation("start", True, None, label, stored=stored + 1, environment=environment)
    secret = new_edge_secret()
    add_edge_secret(connection, call, secret, label)
    return Rotation("start", False, secret, label, stored=stored + 1, environment=environment)


def finish_rotation(connection: Connection, call: Call, *, dry_run: bool = False) -> Rotation:
    """Retire every stored secret but the newest; with one (or none), nothing to do."""
    require_admin(call.actor)
    secrets = active_secrets(connection)
    older = secrets[:-1]
    if not dry_run:
        for stored in older:
            retire_digest(connection, stored.digest, call.at)
            record_audit(connection, call, "edge_secret.retire", "edge_secret", stored.label)
    return Rotation(
        "finish",
        dry_run,
        retired=[stored.label for stored in older],
        stored=len(secrets) - len(older),
        environment=len(call.settings.edge_secret_list),
    )
