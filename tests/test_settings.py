"""Settings: environment variables, then `masthead.toml`, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from masthead.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("MASTHEAD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_without_a_file_or_variables() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///./masthead.db"
    assert settings.page_size == 9
    assert settings.timezone == "UTC"
    assert settings.env == "development"


def test_the_toml_file_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "masthead.toml").write_text(
        'site_title = "From the file"\npage_size = 12\npublic_url = "https://example.test/"\n'
    )
    monkeypatch.setenv("MASTHEAD_PAGE_SIZE", "5")
    settings = load_settings()
    assert settings.site_title == "From the file"
    assert settings.page_size == 5
    assert settings.public_url == "https://example.test"


def test_another_config_file_can_be_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text('timezone = "Europe/Paris"\n')
    monkeypatch.setenv("MASTHEAD_CONFIG", str(other))
    assert load_settings().timezone == "Europe/Paris"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("MASTHEAD_TIMEZONE", "Mars/Olympus"), ("MASTHEAD_PAGE_SIZE", "0"), ("MASTHEAD_ENV", "prod")],
)
def test_bad_values_are_refused_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.removeprefix("MASTHEAD_").lower()):
        load_settings()
