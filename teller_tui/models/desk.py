"""Teller-desk search support: indexes on customer names and the 2-character name-infix table.

The FTS5 trigram table ``customer_fts`` (SQLite) is raw SQL in migration 0003_desk: it is a
virtual table, not a model. ``customer_name_gram`` holds every 2-character CJK substring of a
customer's name that is not its prefix (a name's prefix is served by ``ix_customer_full_name``),
so a 2-character fragment such as "建国" finds 李建国 through an index. SQLite triggers keep both
in step with ``customer``.
"""

from __future__ import annotations

from sqlalchemy import Index, PrimaryKeyConstraint
from sqlmodel import Field, SQLModel

from teller_tui.models.people import Customer

ix_customer_full_name = Index("ix_customer_full_name", Customer.__table__.c.full_name)  # type: ignore[attr-defined]
ix_customer_name_latin = Index("ix_customer_name_latin", Customer.__table__.c.name_latin)  # type: ignore[attr-defined]


class CustomerNameGram(SQLModel, table=True):
    __tablename__ = "customer_name_gram"
    __table_args__ = (PrimaryKeyConstraint("gram", "customer_id", name="pk_customer_name_gram"),
                      {"sqlite_with_rowid": False})

    gram: str = Field(max_length=2)
    customer_id: int
