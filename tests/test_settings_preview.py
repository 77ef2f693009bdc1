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
