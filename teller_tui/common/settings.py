"""Settings, read from ``TELLER_*`` environment variables and an optional TOML settings file.

Nothing is read at import time: call :func:`load_settings`. Precedence, highest first:
explicit keyword arguments, environment, the settings file (``TELLER_SETTINGS_FILE`` or
``$TELLER_HOME/settings.toml``), defaults.
"""

from __future__ import annotations

import os

import tomllib
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from teller_tui.common.dburl import normalize_database_url
from teller_tui.common.printing.config import PrinterSpec, TerminalPrinters

# The defaults, the home directory and the locale spelling are shared with the pydantic-free
# preview the sign-in screen shows before these settings load (teller_tui.common.settings_preview).
from teller_tui.common.settings_preview import (
    DEFAULT_BRANCH_CODE,
    DEFAULT_IDLE_LOCK_SECONDS,
    DEFAULT_LOCALE,
    DEFAULT_TERMINAL_ID,
    DatabaseTarget,
    default_home,
    normalize_locale_setting,
    settings_file_path,
)

__all__ = ["Settings", "default_home", "load_settings"]


class _TomlFileSource(PydanticBaseSettingsSource):
    """Values from the settings file, below the environment in precedence."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path is not None and path.is_file():
            with path.open("rb") as fh:
                self._data = tomllib.load(fh)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELLER_", extra="ignore", validate_default=True)

    home: Path = Field(default_factory=default_home, description="Data directory (database, keys, receipts)")
    database_url: str = Field("", description="SQLAlchemy URL; default sqlite file under home")
    read_database_url: str = Field("", description="PostgreSQL standby the dashboards and reports read from "
                                   "(hot standby); empty: they read from the primary")
    training_database_url: str = Field("", description="Training mode's own database (required on PostgreSQL); "
                                                       "default sqlite file under home/training")
    locale: Literal["zh_CN", "en"] = DEFAULT_LOCALE
    terminal_id: str = Field(DEFAULT_TERMINAL_ID, description="Name of this terminal in audit records")
    branch_code: str = DEFAULT_BRANCH_CODE
    settings_file: Path | None = None

    idle_lock_seconds: int = Field(DEFAULT_IDLE_LOCK_SECONDS, ge=10)
    kiosk_idle_seconds: int = Field(60, ge=5)
    kiosk_pin_lock_minutes: int = Field(30, ge=1, description="A kiosk sign-in lock expires after this long")
    kiosk_min_response_seconds: float = Field(1.0, ge=0, le=10,
                                              description="Every kiosk sign-in answer takes at least this long")
    kiosk_attempts_per_minute: int = Field(10, ge=1, description="Sign-in attempts one kiosk terminal may make")
    counter_consent: bool = Field(True, description="Cash-out, transfer, wallet close and class change at the "
                                  "counter need the customer's consent (PIN on the display or ID re-check)")
    consent_code_from: str = Field("5000.00", description="A cash-out or transfer at the counter from this amount "
                                   "(yuan): a customer with an authenticator app also types its code on the display")
    consent_code_from_currencies: dict[str, str] = Field(
        default_factory=dict, description="The same threshold for other currencies, each in its own units, "
        "e.g. {'USD': '700.00'}; a currency not listed asks for the code at any amount")
    approval_expiry_seconds: int = Field(10 * 60, ge=30)
    draft_expiry_hours: int = Field(72, ge=1)
    over_short_tolerance: str = Field("10.00", description="Drawer difference posted without approval (yuan)")
    keymap: dict[str, str] = Field(default_factory=dict, description="binding id -> keys, e.g. {'cash_in': 'f5'}")
    # The offline counter (teller_tui.offline): cash-ins taken while the database cannot be reached,
    # capped in minor units (fen for CNY) over the cash at this terminal not yet in the books.
    offline_cash_in: bool = Field(True, description="Signed-in tellers may take cash-ins while the database is down")
    offline_cap_per_wallet: int = Field(200_000, ge=0, description="Offline cash-in per wallet (minor units)")
    offline_cap_per_teller: int = Field(1_000_000, ge=0, description="Offline cash-in per teller (minor units)")
    offline_cap_per_outage: int = Field(2_000_000, ge=0, description="Offline cash-in per terminal and outage "
                                        "(minor units)")
    offline_wallet_cache_hours: int = Field(12, ge=1, description="Offline, only wallets seen this recently")
    # Customer notifications (teller_tui.notify.outbox / sender; `teller notify run`). Nothing is sent unless
    # notify_send is true: demo and training databases keep the default.
    notify_send: bool = Field(False, description="Deliver queued customer notifications (off: queue only)")
    notify_bank_name: str = Field("Bank", max_length=40, description="Sender name in notification texts")
    notify_sms_url: str = Field("", description="SMS gateway webhook URL (HTTP POST, JSON)")
    notify_sms_token: str = Field("", description="Bearer token for the SMS gateway")
    notify_smtp_host: str = Field("", description="SMTP server for e-mail notifications")
    notify_smtp_port: int = Field(25, ge=1, le=65535)
    notify_smtp_from: str = Field("", description="From address of notification e-mails")
    notify_smtp_user: str = ""
    notify_smtp_password: str = ""
    notify_smtp_starttls: bool = False
    notify_max_attempts: int = Field(8, ge=1, le=50)
    notify_backoff_seconds: float = Field(30.0, ge=0, description="First retry delay; doubles each attempt (max 1 h)")
    notify_lease_seconds: float = Field(120.0, ge=1, description="A claimed message is sent again after this")
    notify_app_interval_seconds: float = Field(0.0, ge=0, description="Running app sends every N s (0: only cron)")
    web_cjk_font: Path | None = Field(None, description="Font file `teller serve` sends browsers for Chinese "
                                      "(TTF/OTF/TTC); default: the first of the usual Noto CJK / WenQuanYi paths")
    # Allow tests/benchmarks on throwaway files to relax durability explicitly (never the default).
    sqlite_synchronous: Literal["FULL", "EXTRA"] = "FULL"
    allow_network_filesystem: bool = False
    # Printers (teller_tui.common.printing.config): named printers, the default, per-terminal choices.
    printers: dict[str, PrinterSpec] = Field(default_factory=dict, description="name -> printer")
    default_printer: str = Field("", description="Printer for receipts and documents unless chosen below")
    document_printer: str = Field("", description="Printer for statements, welcome sheets and reports")
    terminal_printers: dict[str, TerminalPrinters] = Field(default_factory=dict,
                                                           description="terminal id -> {receipt, document}")
    #: True only on the copy made by teller_tui.training.mode.training_settings: no environment
    #: variable or settings file can switch a live terminal into training (or back).
    _training: bool = PrivateAttr(default=False)

    @field_validator("locale", mode="before")
    @classmethod
    def _norm_locale(cls, value: Any) -> Any:
        return normalize_locale_setting(value)

    @model_validator(mode="after")
    def _printers_exist(self) -> Self:
        named = [self.default_printer, self.document_printer]
        for choice in self.terminal_printers.values():
            named += [choice.receipt, choice.document]
        unknown = sorted({n for n in named if n and n not in self.printers})
        if unknown:
            raise ValueError(f"unknown printer(s) {', '.join(unknown)}: define them under [printers]")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls, settings_file_path()))

    # -- derived ------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        """These settings point at the training database (see teller_tui.training.mode)."""
        return self._training

    def as_training(self, home: Path, database_url: str) -> Settings:
        """A copy pointing at the training home and database, marked as training."""
        copy = self.model_copy(update={"home": home, "database_url": database_url, "read_database_url": ""})
        copy._training = True
        return copy

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{self.home / 'teller.db'}"

    @property
    def database_target(self) -> DatabaseTarget:
        """The database a start opens, as :func:`~teller_tui.common.settings_preview.preview_database` sees it."""
        return DatabaseTarget(url=self.effective_database_url, home=self.home,
                              sqlite_synchronous=self.sqlite_synchronous,
                              allow_network_filesystem=self.allow_network_filesystem)

    @property
    def effective_read_database_url(self) -> str:
        """Where analytics and reports read: ``TELLER_READ_DATABASE_URL`` if set, else the main database."""
        if self.read_database_url:
            return normalize_database_url(self.read_database_url, target_session_attrs="prefer-standby")
        return self.effective_database_url

    @property
    def receipts_dir(self) -> Path:
        return self.home / "receipts"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    def ensure_home(self) -> Path:
        """Create the data directory (0700, whatever the umask) when it is first needed."""
        if not self.home.exists():
            self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.home, 0o700)
        return self.home


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
