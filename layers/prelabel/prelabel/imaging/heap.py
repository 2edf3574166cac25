"""Make freed image memory go back to the system, so the process's size follows the budget.

glibc serves allocations over its mmap threshold (128 KiB at start) with their own mappings,
but after such a block is freed it raises the threshold to that block's size (up to 32 MiB), so
from then on Pillow's 16 MiB image blocks come from the per-thread heaps, which keep freed
memory for reuse by the same thread. With eight threads decoding big images one after the
other, the process grew to 1.2-1.4 GB for a batch whose decodes never held more than 320 MB at
once (benchmarks/worker.py, hostile batch). A fixed threshold keeps every allocation of 4 MiB
or more in a mapping of its own, unmapped when freed; the trim threshold is raised with it so
the heaps do not give back and re-fault the small buffers of ordinary photos (that costs about
8% CPU at the default 128 KiB).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

MMAP_THRESHOLD = 4 * 1024 * 1024
TRIM_THRESHOLD = 16 * 1024 * 1024
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_lock = threading.Lock()
_done = False


def return_freed_images() -> bool:
    """Set glibc's thresholds once per process; False where the C library is not glibc."""
    global _done
    with _lock:
        if _done:
            return True
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):
            return False
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        mallopt.restype = ctypes.c_int
        _done = bool(
            mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        )
        return _done
