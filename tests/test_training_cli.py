"""``teller training setup|list|report`` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from teller_tui.cli import main


def test_list_shows_eight_scenarios_in_both_languages(capsys: Any) -> None:
    assert main(["training", "list"]) == 0
    out = capsys.readouterr().out
    assert out.count("steps") >= 8
    for zh, en in (("手机被盗", "A stolen phone"), ("电信诈骗", "phishing victim"), ("拆分现金", "Splitting cash"),
                   ("校验位", "check digit"), ("老年客户", "elderly customer"), ("点钞", "counting notes"),
                   ("主管审批", "over the teller's limit"), ("没到账", "did not arrive")):
        assert zh in out and en in out, (zh, en)


@pytest.mark.slow
def test_setup_builds_a_separate_database_and_report_reads_it(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setenv("TELLER_HOME", str(tmp_path))
    monkeypatch.delenv("TELLER_DATABASE_URL", raising=False)
    monkeypatch.setenv("TELLER_SQLITE_SYNCHRONOUS", "FULL")
    assert main(["demo", "--no-run", "--customers", "0"]) == 0  # the live branch
    assert main(["training", "setup", "--customers", "0", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "training" / "teller.db") in out
    assert (tmp_path / "teller.db").is_file() and (tmp_path / "training" / "teller.db").is_file()
    assert (tmp_path / "training" / "secret.key").is_file()
    assert (tmp_path / "training" / "simulated_supervisor.toml").stat().st_mode & 0o077 == 0
    assert main(["training", "setup", "--quiet"]) == 1  # not twice without --force
    capsys.readouterr()
    assert main(["training", "report", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"trainees": [], "common_mistakes": []}
    assert main(["training", "report"]) == 0
    assert "No training results yet." in capsys.readouterr().out

    # an attempt, then a rebuild: the report still sees it (the archive beside the training database)
    from teller_tui.audit.trail import Actor
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services
    from teller_tui.training.mode import training_settings

    services = make_services(training_settings(load_settings()))
    try:
        view = services.auth.get_staff("teller1")
        teller1 = Actor(view.id, "teller1", "T01", view.role, view.branch_code)
        run = services.training.start(teller1, "stolen-phone")
        assert not services.training.finish(teller1, run.run_id).passed
    finally:
        services.close()
    assert main(["training", "setup", "--customers", "0", "--quiet", "--force"]) == 0
    capsys.readouterr()
    assert main(["training", "report", "--format", "json", "--trainee", "teller1"]) == 0
    [row] = json.loads(capsys.readouterr().out)["trainees"]
    assert row["attempts"] == 1 and row["passes"] == 0 and row["scores"] == {"stolen-phone": [20]}
    assert row["mistakes"]["stolen-phone/blocked"] == 1 and "before" in row["live"]
    assert (tmp_path / "training" / "results-archive.jsonl").stat().st_mode & 0o077 == 0
    assert main(["training", "report", "--format", "csv"]) == 0
    assert "teller1,stolen-phone,1,0,20,20" in capsys.readouterr().out
