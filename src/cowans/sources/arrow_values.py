"""Arrow arrays and scalars made from Python values, without pa.array() or pa.scalar().

Those two import pandas, when it is installed, to ask whether the value is a pandas object: a
second, and 50 MB of memory, in a process that has no other use for pandas. So the column
readers build the few arrow values they need from buffers instead.
"""

import array
import itertools

import pyarrow as pa


def _lean_memory_pool() -> pa.MemoryPool:
    """jemalloc, which gives freed memory back to the system within a second; pyarrow's
    default, mimalloc, kept 90 MB of a parsed feed's blocks (read one after another) until the
    process ended, which took the import past its memory budget."""
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without it
        return pa.default_memory_pool()


# The pool for the column readers' large arrow buffers: pyarrow's blocks and parsed batches.
MEMORY_POOL = _lean_memory_pool()
# And for everything else arrow allocates (compute kernels, to_pylist): left in mimalloc, the
# Etilize import's two readings of a 25,000-product feed peaked 30 MB higher. The column
# readers are the process's only users of arrow, so the process-wide default is theirs to set.
pa.set_memory_pool(MEMORY_POOL)


def release_unused_memory() -> None:
    """What pyarrow's pools hold freed, back to the system, once a file is read: its records
    live on for the rest of an import, and its blocks should not sit under them."""
    MEMORY_POOL.release_unused()
    pa.default_memory_pool().release_unused()


def int32_array(values: list[int]) -> pa.Array:
    data = array.array("i", values)
    return pa.Array.from_buffers(pa.int32(), len(values), [None, pa.py_buffer(data)])


def int64(value: int) -> pa.Scalar:
    data = array.array("q", [value])
    return pa.Array.from_buffers(pa.int64(), 1, [None, pa.py_buffer(data)])[0]


def strings(value: str, count: int) -> pa.Array:
    """`count` times the string `value`."""
    data = value.encode()
    offsets = array.array("i", range(0, len(data) * (count + 1), len(data) or 1))
    if not data:
        offsets = array.array("i", bytes(4 * (count + 1)))
    return pa.Array.from_buffers(
        pa.string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data * count)]
    )


def string_array(values: list[str]) -> pa.Array:
    data = [value.encode() for value in values]
    offsets = array.array("i", itertools.accumulate(map(len, data), initial=0))
    return pa.Array.from_buffers(
        pa.string(), len(values), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    )


def string(value: str) -> pa.Scalar:
    return strings(value, 1)[0]


def null_string() -> pa.Scalar:
    return pa.nulls(1, pa.string())[0]
