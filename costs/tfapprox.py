"""tf-approximate's multiplier table format (`.bin`): 65,536 little-endian uint16 products, index a*256 + b
(a the activation operand, b the weight operand; ehw-fit/tf-approximate, tf2/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

ENTRIES = 256 * 256


class TableFileError(ValueError):
    """A `.bin` file that is not a 256x256 uint16 product table; the message names the file."""


def read_bin(path: str | Path) -> np.ndarray:
    """The table as uint16[256, 256] (table[a, b])."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TableFileError(f"{path}: cannot read multiplier table: {exc.strerror or exc}") from None
    if len(data) != 2 * ENTRIES:
        raise TableFileError(f"{path}: a multiplier table has {2 * ENTRIES} bytes (65,536 uint16), got {len(data)}")
    table = np.frombuffer(data, dtype="<u2").reshape(256, 256).astype(np.uint16)
    table.setflags(write=False)
    return table


def write_bin(table: np.ndarray, path: str | Path) -> None:
    table = np.asarray(table)
    if table.shape != (256, 256):
        raise TableFileError(f"{path}: a multiplier table has shape (256, 256), got {table.shape}")
    if table.min() < 0 or table.max() > 0xFFFF:
        raise TableFileError(f"{path}: products must fit uint16 (0..65535)")
    Path(path).write_bytes(table.astype("<u2").tobytes())
