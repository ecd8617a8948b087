"""What `masthead ops doctor` finds: findings with a severity, and the figures it reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["Finding", "QueueFigures", "Severity", "counts", "is_problem"]


class Severity(StrEnum):
    """`error`: the site is broken or unsafe; `warning`: it will be, or something gave up;
    `info`: a figure worth knowing. Errors and warnings make `ops` commands exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    command: str = ""
    """The command that fixes or inspects it."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "command": self.command,
        }


@dataclass(frozen=True)
class QueueFigures:
    queued: int
    oldest_due: datetime | None
    past_lease: int
    failed_since: int
    unverified: int


def is_problem(finding: Finding) -> bool:
    return finding.severity is not Severity.INFO


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    """How many findings of each severity (every severity named, zero included)."""
    return {
        severity.value: sum(1 for finding in findings if finding.severity is severity)
        for severity in Severity
    }
