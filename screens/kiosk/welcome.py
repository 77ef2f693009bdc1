"""The welcome screen: choose 中文 or English. Bilingual, holds no customer data."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from .base import KioskScreen

__all__ = ["WelcomeScreen"]


class WelcomeScreen(KioskScreen):
    """The base of the kiosk's screen stack."""

    BINDINGS = [
        Binding("left", "choose('lang-zh')", show=False, id="kiosk.welcome.left"),
        Binding("right", "choose('lang-en')", show=False, id="kiosk.welcome.right"),
    ]
    KIOSK_ACTIONS = frozenset({"choose"})

    def action_choose(self, button_id: str) -> None:
        """Arrow keys move between the two language buttons."""
        self.query_one(f"#{button_id}", Button).focus()

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="welcome-box"):
            yield Static(Content("欢迎使用数字钱包自助服务"), id="welcome-title-zh", classes="kiosk-title")
            yield Static(Content("Welcome to the digital wallet kiosk"), id="welcome-title-en", classes="kiosk-title")
            yield Static(Content("请选择语言  ·  Please choose your language"), classes="kiosk-subtitle")
            with Horizontal(id="welcome-languages"):
                # Disabled until the database is open (sync_ready), also in the very first frame.
                ready = bool(getattr(self.app, "usable", False))
                yield Button("中文", id="lang-zh", classes="kiosk-button", variant="primary", disabled=not ready)
                yield Button("English", id="lang-en", classes="kiosk-button", variant="primary", disabled=not ready)
            yield Static(Content("正在启动…  Starting…"), id="welcome-status", classes="kiosk-status")

    def on_mount(self) -> None:
        self.sync_ready()
        self.query_one("#lang-zh", Button).focus()

    def sync_ready(self, problem: str | None = None) -> None:
        if not self.is_mounted:
            return
        ready = bool(getattr(self.app, "usable", False))
        waiting = bool(getattr(self.app, "waiting_for_core", False))
        for button in self.query(Button):
            button.disabled = not ready or waiting
        status = self.query_one("#welcome-status", Static)
        if problem:
            status.update(Content(problem))
        else:
            status.update(Content("" if ready and not waiting else "正在启动…  Starting…"))
        if ready and not waiting and not isinstance(self.app.focused, Button):
            self.query_one("#lang-zh", Button).focus()

    def reset(self) -> None:
        self.sync_ready()

    @on(Button.Pressed, "#lang-zh")
    def _zh(self) -> None:
        self.app.action_start("zh_CN")

    @on(Button.Pressed, "#lang-en")
    def _en(self) -> None:
        self.app.action_start("en")
