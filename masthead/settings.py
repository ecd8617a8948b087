"""One Settings object, read from `MASTHEAD_*` variables and an optional `masthead.toml`.

Settings are passed in to whatever needs them; nothing imports a global instance.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Settings", "load_settings"]

CONFIG_FILE_VARIABLE = "MASTHEAD_CONFIG"
DEFAULT_CONFIG_FILE = "masthead.toml"


class Settings(BaseSettings):
    """Infrastructure settings and the defaults of the site settings."""

    model_config = SettingsConfigDict(
        env_prefix="MASTHEAD_", extra="ignore", frozen=True, toml_file=DEFAULT_CONFIG_FILE
    )

    database_url: str = Field(
        "sqlite:///./masthead.db", description="SQLAlchemy URL of the database."
    )
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL of the public site, for canonical links."
    )
    env: Literal["development", "production"] = Field(
        "development", description="`production` refuses weak set-ups."
    )
    site_title: str = Field("Masthead", description="The site's name.")
    site_kicker: str = Field("Field notes", description="The short line above the headline.")
    site_headline: str = Field(
        "Notes from the people and agents who run Masthead", description="The site's headline."
    )
    site_intro: str = Field(
        "How we write, review, publish and verify posts, told by the staff who do it.",
        description="One sentence under the headline.",
    )
    page_size: int = Field(9, ge=1, le=100, description="Cards on one listing page.")
    edge_header: str = Field(
        "X-Masthead-Edge", description="The header that must carry an edge secret."
    )
    edge_secrets: str = Field(
        "", description="Comma-separated edge secrets; two during a rotation.", repr=False
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="The largest request body the API accepts."
    )
    idempotency_lock_seconds: float = Field(
        30.0,
        gt=0,
        description="How long a key stays in flight before a retry may take over a dead call.",
    )
    idempotency_keep_hours: float = Field(
        24.0, ge=24, description="How long an idempotency key and its response are kept."
    )
    timezone: str = Field("UTC", description="Time zone of the dates shown on the site.")

    @field_validator("public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def edge_secret_list(self) -> list[str]:
        return [secret.strip() for secret in self.edge_secrets.split(",") if secret.strip()]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get(CONFIG_FILE_VARIABLE, DEFAULT_CONFIG_FILE))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_path))


def load_settings(**overrides: object) -> Settings:
    """Read the settings: explicit overrides, then the environment, then `masthead.toml`."""
    return Settings(**overrides)  # type: ignore[arg-type]
