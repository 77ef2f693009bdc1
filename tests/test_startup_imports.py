"""What a terminal loads before its sign-in can be used (issue 25).

The start is progressive: the sign-in is usable once the database is open and checked (SQLAlchemy
Core: engines, pragmas, a write attempt, the schema revision), and the core — the models, the ORM,
pydantic-settings, every service — loads after it, in the same worker, while the person types.
So the contract has two moments:

* **usable** (read from the real start: ``teller run`` through the bench driver, which writes
  ``sys.modules`` at the first frame with the sign-in button enabled): the app shell, the sign-in
  screen and the database's Core path, and none of the ORM, SQLModel, pydantic or the model classes.
  (The usable frame is painted before the core starts loading: the worker waits for it.)
* **core loaded** (``teller_tui.services`` imported): no other screen's module and none of the heavy
  packages only some screens or commands use.

Time to usable is import time (``teller bench --only startup``), so a new import on either path is a
decision, not an accident."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import screens

ROOT = Path(__file__).resolve().parents[1]
#: Packages only some screens or commands need (onboarding's pinyin, charts, migrations, the
#: browser server, PostgreSQL's driver on a SQLite branch, image and template libraries).
HEAVY = ("pypinyin", "plotext", "textual_plotext", "babel", "psycopg", "PIL", "jinja2", "alembic", "mako",
         "textual_serve", "aiohttp", "hypothesis")
#: What the core loads and a usable sign-in does not wait for.
CORE_ONLY = ("sqlalchemy.orm", "sqlmodel", "pydantic", "pydantic_core", "pydantic_settings", "teller_tui.models",
             "teller_tui.services", "teller_tui.common.settings")
#: Screen modules the sign-in needs (the console script, the shell, its screen, the key footer, the
#: training watermark, and the outage banner with the offline counter's figures: the sign-in screen
#: says when the database cannot be reached and what this terminal holds offline).
SIGN_IN_SCREENS = {"screens.offline_desk", "screens.widgets.outage_banner", "screens", "screens.cli", "screens.app",
                   "screens.base", "screens.commands", "screens.keyroute", "screens.refusal_text", "screens.signin",
                   "screens.training", "screens.widgets", "screens.widgets.footer", "screens.widgets.safe",
                   "screens.widgets.watermark", "screens.widgets.submit", "screens.bench_drivers"}


def loaded_when_core_is() -> set[str]:
    code = ("import sys, json, screens.cli, screens.app, screens.signin, teller_tui.services, "
            "teller_tui.common.settings; print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True).stdout
    return set(json.loads(out))


def core_only(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in CORE_ONLY))


@pytest.mark.slow  # starts the real app in a child process
def test_the_sign_in_is_usable_before_the_orm_pydantic_and_the_models_load(tmp_path: Path, db_path: Path) -> None:
    modules_file = tmp_path / "modules.json"
    env = {**os.environ, "TELLER_HOME": str(tmp_path / "home"), "TELLER_DATABASE_URL": f"sqlite:///{db_path}",
           "TELLER_BENCH_MODULES_FILE": str(modules_file), "PYTHONPATH": str(ROOT)}
    env.pop("TEXTUAL", None)
    out = subprocess.run([sys.executable, "-m", "screens.bench_drivers", "startup", "teller-usable"], env=env,
                         cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL).stdout
    assert "SignInScreen" in out, out  # the usable sign-in itself, not the startup error screen
    modules = set(json.loads(modules_file.read_text()))
    assert "teller_tui.db.engines" in modules and "sqlalchemy.engine" in modules  # the database is open
    assert core_only(modules) == []
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []
    screens = {m for m in modules if m == "screens" or m.startswith("screens.")}
    assert screens - SIGN_IN_SCREENS == set(), "a screen module loads before sign-in: import it when first shown"


def test_the_core_loads_no_other_screen_and_no_heavy_package() -> None:
    modules = loaded_when_core_is()
    assert "teller_tui.services" in modules and "sqlmodel" in modules  # the check sees the real core
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []
    screens = {m for m in modules if m == "screens" or m.startswith("screens.")}
    assert screens - SIGN_IN_SCREENS == set(), "a screen module loads with the core: import it when first shown"


def test_the_cycle_collector_comes_back_after_the_start_with_the_start_up_heap_frozen() -> None:
    import gc

    from screens import resume_collection

    assert gc.isenabled()
    resume_collection()  # on already (tests, an app run some other way): nothing changes
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()  # what `teller run` / `teller kiosk` do before the start (screens/cli.py)
    try:
        resume_collection()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 1000  # the modules and classes loaded so far: out of the collector's walks
    finally:
        gc.unfreeze()
        gc.enable()
        screens._froze_start = False


def test_the_core_is_frozen_once_loaded_only_where_the_start_was() -> None:
    """``freeze_core`` (after make_services, in the start's worker) freezes what the core loaded, as
    the start-up heap was; in a process whose start was not frozen (tests) it freezes nothing."""
    import gc

    from screens import freeze_core, resume_collection

    core = [[i] for i in range(5_000)]  # stands for what the core allocates after the first frame
    freeze_core()
    assert gc.get_freeze_count() == 0
    gc.disable()
    try:
        resume_collection()
        start = gc.get_freeze_count()
        core += [[i] for i in range(5_000)]
        freeze_core()
        assert gc.get_freeze_count() >= start + 5_000
    finally:
        gc.unfreeze()
        gc.enable()
        screens._froze_start = False
    assert len(core) == 10_000
