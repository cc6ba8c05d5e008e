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
import ctypes.util
import gc
from functools import cache


@cache
def _trim():
    """glibc's `malloc_trim`, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def give_back() -> bool:
    """Collect what is unreachable and return the free pages; whether the system was told."""
    gc.collect()
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True
