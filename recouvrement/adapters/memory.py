"""Give back to the system the memory a step has freed.

A daily run is one long process: the ingest of a million invoices, the risk
model, planning and the report each build large frames and row lists, then
drop them. Python frees those objects, but the C allocator keeps most of the
pages they lived on (a few objects still alive on a page keep it mapped), so
the process would carry the largest step's footprint into every later one and
add each new step's peak on top of it. `malloc_trim` hands the free pages back.
"""

from __future__ import annotations

import ctypes
from functools import cache


@cache
def _trim():
    """glibc's `malloc_trim`, or None where the C library has none (musl, macOS).

    Looked up among the symbols the process already has: no search for the library
    (`ctypes.util.find_library` starts `ldconfig`)."""
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


def give_back() -> bool:
    """Return the free pages to the system; whether it was told.

    No `gc.collect()`: a full collection walks every object of the process (Prefect's,
    pydantic's and SQLAlchemy's included), 0.3 s each time on a small run, and the large
    frames and row lists a step drops are freed by their reference counts anyway."""
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True
