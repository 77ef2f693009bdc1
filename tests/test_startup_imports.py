"""What a terminal loads before its sign-in can be used (issue 25): the app shell, the sign-in
screen and the whole core (Services is built once), and nothing else — no other screen's module
and none of the heavy packages only some screens or commands use. Time to usable is import time
(see `teller bench --only startup`), so a new top-level import here is a decision, not an accident."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Packages only some screens or commands need (onboarding's pinyin, charts, migrations, the
#: browser server, PostgreSQL's driver on a SQLite branch, image and template libraries).
HEAVY = ("pypinyin", "plotext", "textual_plotext", "babel", "psycopg", "PIL", "jinja2", "alembic", "mako",
         "textual_serve", "aiohttp", "hypothesis")
#: Screen modules the sign-in needs (the console script, the shell, its screen, the key footer, the
#: training watermark, and the outage banner with the offline counter's figures: the sign-in screen
#: says when the database cannot be reached and what this terminal holds offline).
SIGN_IN_SCREENS = {"screens.offline_desk", "screens.widgets.outage_banner","screens", "screens.cli", "screens.app", "screens.base", "screens.commands", "screens.keyroute",
                   "screens.refusal_text", "screens.signin", "screens.training", "screens.widgets",
                   "screens.widgets.footer", "screens.widgets.safe", "screens.widgets.watermark"}


def loaded_at_usable() -> set[str]:
    code = ("import sys, json, screens.cli, screens.app, screens.signin, teller_tui.services, "
            "teller_tui.common.settings; print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True).stdout
    return set(json.loads(out))


def test_sign_in_loads_no_other_screen_and_no_heavy_package() -> None:
    modules = loaded_at_usable()
    assert "teller_tui.services" in modules and "sqlalchemy" in modules  # the check sees the real start
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []
    screens = {m for m in modules if m == "screens" or m.startswith("screens.")}
    assert screens - SIGN_IN_SCREENS == set(), "a screen module loads before sign-in: import it when first shown"
