"""Pausing the cyclic garbage collector around bulk object work.

Seeding, pickling and unpickling a shop create or visit hundreds of thousands of objects, none
of them garbage; each generation-0 collection would walk them again, which doubles the time.
"""

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
