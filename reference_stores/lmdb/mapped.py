"""Give back the resident pages of LMDB's memory map (Linux): a bulk read or write then holds few.

LMDB maps its data file; every page a scan or a write touches stays mapped into the
process, so its RSS grows with the file even though the pages belong to the OS page cache.
``drop_mapped_pages`` tells the kernel (``madvise(MADV_DONTNEED)``) that the process no
longer needs them: for a shared file mapping this only unmaps them, and the next access
maps them again from the page cache, with the same content (py-lmdb maps the file
read-only: LMDB writes through the file descriptor, so no page holds unwritten data).
The mapping is found in ``/proc/self/maps``, as py-lmdb does not report its address.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import List, Optional, Tuple

MADV_DONTNEED = 4  # Linux, <sys/mman.h>

_libc: Optional[ctypes.CDLL] = None


def mapped_ranges(path: str) -> List[Tuple[int, int]]:
    """The address ranges of this process's mappings of the file ``path`` (Linux; else none)."""
    if sys.platform != "linux":
        return []
    target = os.path.realpath(path)
    ranges = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].rstrip("\n") == target:
                low, high = (int(part, 16) for part in fields[0].split("-"))
                ranges.append((low, high))
    return ranges


def drop_mapped_pages(path: str) -> None:
    """Unmap the resident pages of every mapping of ``path``; they come back on the next access."""
    global _libc
    ranges = mapped_ranges(path)
    if not ranges:
        return
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    for low, high in ranges:
        _libc.madvise(ctypes.c_void_p(low), ctypes.c_size_t(high - low), MADV_DONTNEED)
