"""Keeping Python's cyclic garbage collector from stalling the GUI thread.

A full collection walks every container object the process holds, holding the GIL: after torch
is imported that is hundreds of thousands of objects, and a million-item corpus adds tuples of a
million entries each, so one collection, triggered by whichever thread allocates, froze the
GUI for 300 to 600 ms (issue 17). Long-lived objects are therefore frozen out of collection
once they exist, and bulk loads that create millions of acyclic tuples run with collection
paused. Frozen objects are still freed by reference counting when dropped; only a reference
cycle among them would outlive its use.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def collection_paused():
    """The cyclic garbage collector off (process-wide) for the duration."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def freeze_long_lived() -> None:
    """Leave every object that exists now out of future collections (gc.freeze: O(1))."""
    gc.freeze()
