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

__all__ = ["DEFAULT_BRANCH_CODE", "DEFAULT_IDLE_LOCK_SECONDS", "DEFAULT_LOCALE", "DEFAULT_TERMINAL_ID", "SettingsPreview", "default_home",
           "normalize_locale_setting", "preview_settings", "settings_file_path"]

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
