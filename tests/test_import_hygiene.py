"""The core never imports Textual: every module under teller_tui imports without it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import importlib, json, pkgutil, sys
import teller_tui
failed, names = {}, []
for info in pkgutil.walk_packages(teller_tui.__path__, "teller_tui."):
    names.append(info.name)
    try:
        importlib.import_module(info.name)
    except Exception as exc:  # report, do not hide
        failed[info.name] = f"{type(exc).__name__}: {exc}"
bad = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual.") or m == "screens"
             or m.startswith("screens."))
print(json.dumps({"names": names, "failed": failed, "bad": bad}))
"""


def test_core_modules_do_not_import_textual() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "teller_tui.ledger.verify" in result["names"] and "teller_tui.commands.ledger" in result["names"]
    assert result["failed"] == {}, result["failed"]
    assert result["bad"] == [], f"the core imported {result['bad']}"


def test_the_check_can_fail() -> None:
    """Negative control: the same detection flags a module that does import textual."""
    proc = subprocess.run([sys.executable, "-c", "import sys, textual; print('textual' in sys.modules)"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "True"
