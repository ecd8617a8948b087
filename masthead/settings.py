"""One Settings object, read from `MASTHEAD_*` variables and an optional `masthead.toml`.

Settings are passed in to whatever needs them; nothing imports a global instance.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["Settings", "load_settings"]

CONFIG_FILE_VARIABLE = "MASTHEAD_CONFIG"
DEFAULT_CONFIG_FILE = "masthead.toml"
SUPPORTED_DATABASES = frozenset({"sqlite", "postgresql", "postgres"})


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
    max_header_bytes: int = Field(
        16 * 1024,
        ge=1024,
        description="The largest request head (request line and headers) the server reads; "
        "larger: 431 and the connection closed.",
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="How long the server waits for a request's head; later: 408 and the "
        "connection closed.",
    )
    keep_alive_seconds: int = Field(
        5, ge=1, description="How long an idle kept-alive connection stays open."
    )
    rate_limit_per_minute: int = Field(
        1200,
        ge=0,
        description="API calls one token may make in a minute (a bucket of that size, "
        "refilling steadily); past it, 429. 0: no limit.",
    )
    rate_limit_address_per_minute: int = Field(
        30,
        ge=0,
        description="Failed authentications one client address may make in a minute; past "
        "it, every API call from the address gets 429 until it refills. 0: no limit.",
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
    server_threads: int = Field(
        32,
        ge=1,
        le=1024,
        description="Threads that run one server's request handlers; as many requests hold a "
        "database connection at once (the pool's size), the rest wait their turn.",
    )
    page_threads: int = Field(
        1,
        ge=1,
        le=1024,
        description="Of those threads, how many render public pages at once. Rendering is "
        "all CPU and Python runs one thread at a time: a second one mostly adds switching "
        "(a thread storm); for more, more processes (`serve --workers N`).",
    )
    render_cache_bytes: int = Field(
        64 * 1024 * 1024,
        ge=0,
        description="Bytes of rendered public pages each server process keeps (least recently "
        "used go first); 0: no render cache, every request renders its page.",
    )
    database_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="How long a request waits for a database connection before a 503.",
    )
    shutdown_grace_seconds: int = Field(
        20,
        ge=1,
        description="On SIGTERM, how long `masthead serve` lets requests in flight finish "
        "(it accepts no new ones) before it cuts them off; then its worker stops.",
    )
    # --- task queue (durations in seconds) ---
    queue_lease_seconds: float = Field(
        30.0, gt=0, description="How long a claimed run is owned without a heartbeat."
    )
    queue_heartbeat_seconds: float = Field(
        10.0, gt=0, description="How often a worker renews its leases and says it is alive."
    )
    queue_poll_seconds: float = Field(
        1.0, gt=0, description="How often an idle worker looks for due tasks."
    )
    queue_grace_seconds: float = Field(
        20.0, ge=0, description="How long a stopping worker lets running handlers finish."
    )
    queue_reaper_seconds: float = Field(
        5.0, gt=0, description="How often a worker looks for runs whose lease has expired."
    )
    queue_backoff_base_seconds: float = Field(
        5.0, gt=0, description="The delay before the first retry; it doubles on each error."
    )
    queue_backoff_cap_seconds: float = Field(
        3600.0, gt=0, description="The longest delay between two retries."
    )
    queue_max_attempts: int = Field(
        5, ge=1, description="Errored runs a task may have before it fails (per kind by default)."
    )
    queue_max_lost_runs: int = Field(
        10, ge=1, description="Lost runs after which a task fails as `worker_crash_loop`."
    )
    queue_handler_timeout_seconds: float = Field(
        300.0, gt=0, description="How long a handler may run (per kind by default)."
    )
    queue_concurrency: int = Field(4, ge=1, le=256, description="Handlers one worker runs at once.")
    queue_task_modules: str = Field(
        "", description="Comma-separated modules whose `register_handlers(registry)` adds kinds."
    )

    # --- verified publishing ---
    verify_url: str = Field(
        "",
        description="The base URL verification fetches the live site from (a CDN's, say); "
        "empty: the public URL.",
    )
    verify_window_seconds: float = Field(
        600.0,
        gt=0,
        description="How long verification keeps trying before a receipt is unverified.",
    )
    verify_retry_seconds: float = Field(
        1.0, gt=0, description="The wait before checking again; it doubles, up to a minute."
    )

    # --- webhooks ---
    webhook_key: str = Field(
        "",
        description="The key that encrypts webhook secrets at rest (32 characters or more); "
        "production refuses to start without it.",
        repr=False,
    )
    webhooks_allow_private: bool = Field(
        False,
        description="Allow webhook targets on loopback and private networks, and plain http "
        "(tests, closed networks); metadata addresses stay refused.",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="How long one webhook attempt may take, connecting included."
    )
    webhook_retry_budget_seconds: float = Field(
        86400.0,
        gt=0,
        description="How long a webhook delivery keeps being retried before it fails.",
    )
    webhook_backoff_base_seconds: float = Field(
        30.0, gt=0, description="The delay before a delivery's first retry; it doubles."
    )
    webhook_backoff_cap_seconds: float = Field(
        3600.0, gt=0, description="The longest delay between two attempts at a delivery."
    )
    webhook_secret_grace_hours: float = Field(
        24.0,
        ge=0,
        description="After a webhook's secret is rotated, how long deliveries carry a "
        "signature with the old one too.",
    )
    # --- static export ---
    static_dir: str = Field(
        "",
        description="The output folder of static builds: set, every change that alters the "
        "public site queues an incremental `masthead build` into it.",
    )
    static_url: str = Field(
        "",
        description="The base URL of the server that serves the static build's `current` "
        "folder; with a static folder set, verification fetches the site from it.",
    )

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        if self.queue_heartbeat_seconds * 2 > self.queue_lease_seconds:
            raise ValueError("queue_heartbeat_seconds must be at most half of queue_lease_seconds")
        return self

    @field_validator("public_url", "verify_url", "static_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            backend = None
        if backend not in SUPPORTED_DATABASES:
            raise ValueError(
                f"{value!r} is not a database Masthead can use: give sqlite:///path.db "
                "or postgresql://user@host:5432/name"
            )
        return value

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
