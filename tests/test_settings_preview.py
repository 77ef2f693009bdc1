"""The pydantic-free settings preview the sign-in screen shows agrees with the real settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from teller_tui.common.settings import load_settings
from teller_tui.common.settings_preview import SettingsPreview, preview_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("TELLER_LOCALE", "TELLER_TERMINAL_ID", "TELLER_BRANCH_CODE", "TELLER_SETTINGS_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TELLER_HOME", str(tmp_path))
    return tmp_path


def same(**overrides: str) -> SettingsPreview:
    real = load_settings(**overrides)
    preview = preview_settings(**overrides)
    assert (preview.locale, preview.terminal_id, preview.branch_code) == (real.locale, real.terminal_id,
                                                                          real.branch_code)
    return preview


def test_defaults(home: Path) -> None:
    assert same() == SettingsPreview("zh_CN", "T01", "B001")


def test_precedence_file_env_overrides(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "settings.toml").write_text('locale = "en-US"\nterminal_id = "FILE"\nbranch_code = "B777"\n')
    assert same() == SettingsPreview("en", "FILE", "B777")
    monkeypatch.setenv("teller_terminal_id", "ENV")  # any case, as pydantic-settings reads it
    monkeypatch.setenv("TELLER_LOCALE", "zh")
    assert same() == SettingsPreview("zh_CN", "ENV", "B777")
    assert same(terminal_id="ARG", locale="en") == SettingsPreview("en", "ARG", "B777")


def test_explicit_settings_file(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text('branch_code = "B042"\n')
    monkeypatch.setenv("TELLER_SETTINGS_FILE", str(other))
    assert same().branch_code == "B042"


def test_refused_locale_falls_back_and_the_app_names_the_field(home: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    from screens.app import settings_error

    monkeypatch.setenv("TELLER_LOCALE", "fr")
    assert preview_settings().locale == "zh_CN"
    with pytest.raises(Exception) as info:
        load_settings()
    assert "locale" in settings_error(info.value)


# -- the database a start opens before the settings load (issue 25: the progressive start) -----------
@pytest.fixture
def db_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("TELLER_DATABASE_URL", "TELLER_SQLITE_SYNCHRONOUS", "TELLER_ALLOW_NETWORK_FILESYSTEM"):
        monkeypatch.delenv(var, raising=False)
    return home


def test_database_target_defaults_agree(db_home: Path) -> None:
    from teller_tui.common.settings_preview import preview_database

    target = preview_database()
    assert target == load_settings().database_target
    assert target.url == f"sqlite:///{db_home / 'teller.db'}" and target.sqlite_synchronous == "FULL"
    assert not target.allow_network_filesystem


def test_database_target_precedence_agrees(db_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from teller_tui.common.settings_preview import preview_database

    other = db_home / "elsewhere"
    (db_home / "settings.toml").write_text(f'database_url = "sqlite:///{other}/file.db"\n'
                                           'sqlite_synchronous = "EXTRA"\nallow_network_filesystem = true\n')
    assert preview_database() == load_settings().database_target
    assert preview_database().sqlite_synchronous == "EXTRA" and preview_database().allow_network_filesystem
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{other}/env.db")
    monkeypatch.setenv("teller_allow_network_filesystem", "no")
    assert preview_database() == load_settings().database_target
    assert preview_database().url.endswith("env.db") and not preview_database().allow_network_filesystem
    args = {"database_url": f"sqlite:///{other}/arg.db", "home": str(other)}
    assert preview_database(**args) == load_settings(**args).database_target


def test_a_value_pydantic_reads_otherwise_is_only_a_preview(db_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app compares the preview with the validated settings and reopens when they differ; a value
    pydantic would refuse falls back to the default here (the settings then report it)."""
    from teller_tui.common.settings_preview import preview_database

    monkeypatch.setenv("TELLER_SQLITE_SYNCHRONOUS", "NORMAL")
    assert preview_database().sqlite_synchronous == "FULL"
    with pytest.raises(Exception):
        load_settings()
