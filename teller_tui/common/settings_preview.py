"""The few settings the sign-in screen shows, read without pydantic.

:class:`teller_tui.common.settings.Settings` imports pydantic-settings (~100 ms): ``teller run``
loads it in the startup worker, after the first frame. Until then the sign-in screen shows
the branch, the terminal and the language resolved here with the same precedence —
explicit keyword arguments, ``TELLER_*`` environment variables (any case), the settings
file (``TELLER_SETTINGS_FILE`` or ``$TELLER_HOME/settings.toml``), defaults. The app
replaces the preview with the validated :class:`Settings` as soon as they are loaded.

The defaults, the home directory and the locale spelling rules live here, and
``teller_tui.common.settings`` uses them: one definition for both.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from platformdirs import user_data_dir

from teller_tui.common.dburl import normalize_database_url

__all__ = ["DEFAULT_BRANCH_CODE", "DEFAULT_IDLE_LOCK_SECONDS", "DEFAULT_LOCALE", "DEFAULT_TERMINAL_ID", "DatabaseTarget",
           "SettingsPreview", "default_home", "normalize_locale_setting", "preview_database", "preview_settings",
           "settings_file_path"]

DEFAULT_LOCALE: Final = "zh_CN"
DEFAULT_TERMINAL_ID = "T01"
DEFAULT_BRANCH_CODE = "B001"
DEFAULT_IDLE_LOCK_SECONDS = 15 * 60
ENV_PREFIX = "TELLER_"


def default_home() -> Path:
    """``TELLER_HOME`` if set, else the per-user data directory (platformdirs)."""
    env = os.environ.get("TELLER_HOME")
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir("teller", "teller-tui"))


def settings_file_path() -> Path:
    """``TELLER_SETTINGS_FILE`` if set, else ``settings.toml`` in :func:`default_home`."""
    explicit = os.environ.get("TELLER_SETTINGS_FILE")
    return Path(explicit).expanduser() if explicit else default_home() / "settings.toml"


def normalize_locale_setting(value: Any) -> Any:
    """``zh``, ``zh-CN``, ``zh_TW``… → ``zh_CN``; ``en``, ``en-US``… → ``en``; anything else as given."""
    if isinstance(value, str):
        v = value.replace("-", "_")
        if v.lower().startswith("zh"):
            return "zh_CN"
        if v.lower().startswith("en"):
            return "en"
    return value


@dataclass(frozen=True, slots=True)
class SettingsPreview:
    """What the sign-in screen needs before :class:`~teller_tui.common.settings.Settings` is loaded."""

    locale: str = DEFAULT_LOCALE
    terminal_id: str = DEFAULT_TERMINAL_ID
    branch_code: str = DEFAULT_BRANCH_CODE


def _file_values() -> dict[str, Any]:
    path = settings_file_path()
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, ValueError):
        return {}  # Settings reports a broken file when it loads it


def preview_settings(**overrides: Any) -> SettingsPreview:
    """Locale, terminal and branch as :func:`teller_tui.common.settings.load_settings` would resolve them.

    Never raises: a value Settings would refuse (an unknown locale) falls back to the default
    here, and the app reports the refusal when the real settings load.
    """
    env = {k.lower(): v for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)}
    file: dict[str, Any] | None = None
    out: dict[str, str] = {}
    for name in ("locale", "terminal_id", "branch_code"):
        if overrides.get(name) is not None:
            value: Any = overrides[name]
        elif (ENV_PREFIX + name).lower() in env:
            value = env[(ENV_PREFIX + name).lower()]
        else:
            if file is None:
                file = _file_values()
            value = file.get(name)
        if value is None:
            continue
        if name == "locale":
            value = normalize_locale_setting(value)
            if value not in ("zh_CN", "en"):
                continue
        elif not isinstance(value, str):
            continue
        out[name] = value
    return SettingsPreview(**out)


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """Which database a start opens, and how: what :class:`~teller_tui.common.settings.Settings`
    resolves (``Settings.database_target``) and what :func:`preview_database` reads without pydantic."""

    url: str
    home: Path
    sqlite_synchronous: str = "FULL"
    allow_network_filesystem: bool = False

    def ensure_home(self) -> None:
        """Create the data directory (0700, whatever the umask) when a SQLite file is to be opened in it."""
        if self.url.startswith("sqlite") and not self.home.exists():
            self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.home, 0o700)


_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})


def preview_database(**overrides: Any) -> DatabaseTarget:
    """The database :func:`teller_tui.common.settings.load_settings` would open, read with the same
    precedence as :func:`preview_settings`. Never raises; a start compares it with the validated
    settings' target once they load, and reopens when they differ (a value pydantic reads otherwise)."""
    env = {k.lower(): v for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)}
    file = _file_values()

    def value(name: str) -> Any:
        if overrides.get(name) is not None:
            return overrides[name]
        if (ENV_PREFIX + name).lower() in env:
            return env[(ENV_PREFIX + name).lower()]
        return file.get(name)

    home_value = value("home")
    home = Path(str(home_value)) if home_value else default_home()  # as pydantic reads it: not expanded
    url_value = value("database_url")
    url = normalize_database_url(str(url_value)) if url_value else f"sqlite:///{home / 'teller.db'}"
    synchronous = value("sqlite_synchronous")
    network = value("allow_network_filesystem")
    return DatabaseTarget(url=url, home=home,
                          sqlite_synchronous=synchronous if synchronous in ("FULL", "EXTRA") else "FULL",
                          allow_network_filesystem=network is True or str(network).strip().lower() in _TRUE)
