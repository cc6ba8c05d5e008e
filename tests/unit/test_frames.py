"""`frame_of` reads a query's rows by chunks into the frame the rows read at once would give."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Numeric, String, Table, \
    create_engine, insert, select
from sqlalchemy.orm import Session

from recouvrement.adapters.db.frames import frame_of

metadata = MetaData()
rows = Table("rows", metadata, Column("id", Integer, primary_key=True), Column("name", String),
             Column("amount", Numeric(12, 2)), Column("due", Date), Column("at", DateTime),
             Column("level", Integer))
COLUMNS = ["id", "name", "amount", "due", "at", "level"]


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as session:
        yield session


def _fill(session, n):
    session.execute(insert(rows), [
        {"id": i, "name": None if i % 4 == 0 else f"n{i % 3}",
         "amount": None if i % 5 == 0 else Decimal(f"{i}.{i % 100:02d}"),
         "due": None if i % 6 == 0 else date(2026, 1 + i % 12, 1 + i % 28),
         "at": None if i % 7 == 0 else datetime(2026, 1, 1, i % 24),
         "level": i % 3} for i in range(1, n + 1)])


def _at_once(session, statement, floats=()):
    frame = pd.DataFrame(session.execute(statement).all(), columns=COLUMNS)
    for name in floats:
        frame[name] = frame[name].astype(float)
    return frame


@pytest.mark.parametrize("n", [0, 1, 7, 50])
@pytest.mark.parametrize("floats", [(), ("amount",)])
def test_the_same_frame_as_every_row_at_once(session, n, floats):
    _fill(session, n)
    statement = select(rows.c.id, rows.c.name, rows.c.amount, rows.c.due, rows.c.at,
                       rows.c.level).order_by(rows.c.id)
    pd.testing.assert_frame_equal(frame_of(session, statement, COLUMNS, chunk=3, floats=floats),
                                  _at_once(session, statement, floats), check_exact=True)


def test_ints_and_converters_apply_as_the_rows_are_read(session):
    _fill(session, 23)
    frame = frame_of(session, select(rows.c.id, rows.c.level, rows.c.amount, rows.c.due),
                     ["id", "level", "cents", "due"], chunk=5, ints=["id", "level"],
                     convert={"cents": lambda v: None if v is None else int(v * 100),
                              "due": lambda v: None if v is None else v.isoformat()})
    assert frame["id"].dtype == "int64" and frame["level"].dtype == "int64"
    assert list(frame["id"]) == list(range(1, 24))
    assert frame["cents"].iloc[0] == 101 and pd.isna(frame["cents"].iloc[4])  # 1.01; id 5: None
    assert frame["due"].iloc[0] == "2026-02-02" and pd.isna(frame["due"].iloc[5])  # id 6: None
