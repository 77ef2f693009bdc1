"""No screen binding is dead: the app's priority bindings run before any screen's, so a screen that
binds the same key never sees it (Ctrl+O once opened both the offline cash-in and, on home, the
consent policy: the home one could never fire)."""

from __future__ import annotations

import importlib
import pkgutil

from textual.binding import Binding
from textual.screen import Screen

import screens
from screens.app import TellerApp


def _screen_classes() -> list[type[Screen]]:
    for mod in pkgutil.walk_packages(screens.__path__, "screens."):
        if mod.name.startswith("screens.kiosk") or mod.name.startswith("screens.pinpad"):
            continue  # their own App classes, not TellerApp's screens
        importlib.import_module(mod.name)
    out: list[type[Screen]] = []
    todo: list[type] = [Screen]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("screens.") and not sub.__module__.startswith(("screens.kiosk",
                                                                                        "screens.pinpad")):
                out.append(sub)
    return out


def _keys(bindings: object) -> dict[str, str]:
    out: dict[str, str] = {}
    for b in bindings:  # type: ignore[attr-defined]
        if isinstance(b, Binding):
            for key in b.key.split(","):
                out[key.strip()] = b.action
    return out


def test_no_screen_binding_is_shadowed_by_an_app_priority_binding() -> None:
    priority = {k.strip(): b.action for b in TellerApp.BINDINGS if isinstance(b, Binding) and b.priority
                for k in b.key.split(",")}
    classes = _screen_classes()
    assert len(classes) > 20
    dead = []
    for cls in classes:
        own = {b for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding) and not b.priority}
        for key, action in _keys(own).items():
            if key in priority and priority[key] != action:  # the same action again is harmless
                dead.append(f"{cls.__module__}.{cls.__name__}: {key} -> {action}")
    assert not dead, dead
