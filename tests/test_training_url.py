"""The training database is never the live one, however its URL is spelled (review finding)."""

from __future__ import annotations

from pathlib import Path

import pytest

from teller_tui.common.errors import Conflict
from teller_tui.common.settings import load_settings
from teller_tui.training.mode import same_database, training_settings


def test_same_database_sees_through_spellings(tmp_path: Path) -> None:
    db = tmp_path / "teller.db"
    assert same_database(f"sqlite:///{db}", f"sqlite:///{tmp_path}/./teller.db")
    assert same_database(f"sqlite:///{db}", f"sqlite:///{tmp_path}/x/../teller.db")
    assert not same_database(f"sqlite:///{db}", f"sqlite:///{tmp_path}/training/teller.db")
    assert same_database("postgresql://a@db/bank", "postgresql+psycopg://b:pw@db:5432/bank?sslmode=require")
    assert same_database("postgresql://a@localhost/bank", "postgresql://a@127.0.0.1:5432/bank")
    assert not same_database("postgresql://a@db/bank", "postgresql://a@db/bank_training")
    assert not same_database("postgresql://a@db/bank", "postgresql://a@db:5433/bank")


def test_training_refuses_the_live_database_by_another_name(tmp_path: Path) -> None:
    live = load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/teller.db",
                         training_database_url=f"sqlite:///{tmp_path}/./teller.db")
    with pytest.raises(Conflict) as refused:
        training_settings(live)
    assert refused.value.code == "training_url"


def test_force_never_rebuilds_a_database_without_the_training_marker(tmp_path: Path) -> None:
    from teller_tui.demo.build import build_demo
    from teller_tui.demo.training import build_training

    other = tmp_path / "books.db"  # somebody's books, named as the training database
    books = load_settings(home=tmp_path / "books", database_url=f"sqlite:///{other}")
    build_demo(books, customers=3, progress=False)
    live = load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/teller.db",
                         training_database_url=f"sqlite:///{other}")
    with pytest.raises(Conflict) as refused:
        build_training(live, customers=3, force=True, progress=False)
    assert refused.value.code == "training_url"
