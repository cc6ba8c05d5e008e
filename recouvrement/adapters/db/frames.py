"""A query's rows as a pandas frame, read in chunks: never every row's object at once.

`pd.DataFrame(session.execute(query).all(), columns=...)` holds, at its peak, a
row object for every row besides the frame built from them: at a million
invoices some 500 MB more than the frame itself. `frame_of` reads the rows
`chunk` at a time into one list per column and builds the frame from those
lists, as the frame of every row would have been built (the same columns, the
same types).
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    import pandas as pd

CHUNK = 50_000


def frame_of(session: Session, statement, columns: Sequence[str], *, chunk: int = CHUNK,
             floats: Iterable[str] = (), ints: Iterable[str] = (),
             convert: Mapping[str, Callable[[Any], Any]] | None = None) -> "pd.DataFrame":
    """The rows of `statement` as a frame with these column names.

    `floats`: columns turned into floats as they are read (None as NaN), as
    `.astype(float)` on the whole frame would, without keeping a million
    `Decimal` objects until then.
    `ints`: columns of integers never None, kept as 64-bit integers as they are read
    (a million Python ints are some 36 MB a column, their array 8 MB).
    `convert`: a function per column applied to each value as it is read (Decimal
    euros to integer cents, one shared object per distinct date), for the same
    reason.
    """
    import pandas as pd

    columns = list(columns)
    as_float = {i for i, name in enumerate(columns) if name in set(floats)}
    converters = {i: (convert or {})[name] for i, name in enumerate(columns)
                  if name in (convert or {})}
    as_int = {i for i, name in enumerate(columns) if name in set(ints)}
    lists: list = [array("q") if i in as_int else [] for i in range(len(columns))]
    result = session.execute(statement.execution_options(yield_per=chunk))
    for part in result.partitions():
        for index, (values, column) in enumerate(zip(lists, zip(*part))):
            if index in as_float:
                values.extend(float("nan") if v is None else float(v) for v in column)
            elif index in converters:
                values.extend(map(converters[index], column))
            else:
                values.extend(column)
    if not columns or not lists[0]:  # no row: as the frame of an empty list of rows
        frame = pd.DataFrame([], columns=columns)
    else:
        import numpy as np

        frame = pd.DataFrame({name: np.frombuffer(values, dtype=np.int64)
                              if isinstance(values, array) else values
                              for name, values in zip(columns, lists)})
    for name in floats:
        frame[name] = frame[name].astype(float)
    return frame
