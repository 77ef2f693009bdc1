"""The architecture's static checks run with the suite: import contracts and strict typing of the core.

``lint-imports`` checks the contracts in pyproject.toml (``[tool.importlinter]``): the core never
imports Textual, the screens or the tests, and lower layers never import higher ones.
``mypy --strict teller_tui`` keeps the core typed. Both run in a subprocess from the repository
root with the interpreter running the tests, so they see this checkout's code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _lint_imports() -> str:
    """The ``lint-imports`` script installed beside this interpreter (the same virtualenv)."""
    beside = Path(sys.executable).parent / "lint-imports"
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports is not installed (pip install import-linter)")
    return found


def test_import_contracts_are_kept() -> None:
    proc = _run([_lint_imports(), "--no-cache"])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_core_is_strictly_typed() -> None:
    proc = _run([sys.executable, "-m", "mypy", "--strict", "teller_tui"])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
