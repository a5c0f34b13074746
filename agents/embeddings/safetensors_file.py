"""Read a `.safetensors` file with numpy: an 8-byte little-endian header length, a JSON header, then
raw little-endian tensor bytes. Only the dtypes BERT checkpoints use are supported."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4"}
_MAX_HEADER_BYTES = 100 * 1024 * 1024  # the format's own limit


class SafetensorsError(ValueError):
    """The file is not a well-formed safetensors file."""


def safetensors_load(path: Path) -> dict[str, np.ndarray]:
    """Every tensor in the file, as read-only-safe numpy copies keyed by tensor name."""
    data = path.read_bytes()
    if len(data) < 8:
        raise SafetensorsError(f"{path} is too short to be a safetensors file")
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > _MAX_HEADER_BYTES or 8 + header_length > len(data):
        raise SafetensorsError(f"{path} declares a header of {header_length} bytes, beyond the file")
    try:
        header = json.loads(data[8 : 8 + header_length])
    except ValueError as error:
        raise SafetensorsError(f"{path} has a malformed JSON header: {error}") from error
    buffer = memoryview(data)[8 + header_length :]
    tensors: dict[str, np.ndarray] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise SafetensorsError(f"{path}: tensor {name} has unsupported dtype {entry.get('dtype')!r}")
        start, end = entry["data_offsets"]
        shape = tuple(int(size) for size in entry["shape"])
        expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if not 0 <= start <= end <= len(buffer) or end - start != expected:
            raise SafetensorsError(f"{path}: tensor {name} has inconsistent offsets {start}..{end}")
        tensors[name] = np.frombuffer(buffer[start:end], dtype=dtype).reshape(shape).copy()
    return tensors
