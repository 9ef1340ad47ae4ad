"""NumPy kernels of the quantised inference path (NHWC tensors): patches, integer dot products through an
8x8 product table, pooling.

Integer operands are signed sign-magnitude values q (|q| < 2^bits); the product of q_x and q_w is
sign(q_x) sign(q_w) T[|q_x|, |q_w|] with T the unsigned multiplier's table, folded into one signed table
T_s[q_x + 255, q_w + 255] so that a product is a single gather.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

CHUNK_ELEMENTS = 1 << 18  # products gathered per chunk (1 MB of int32: stays in the caches)


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) of one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_nhwc(x: np.ndarray, kernel: tuple[int, int], stride: int, padding: str) -> np.ndarray:
    if padding == "valid":
        return x
    rows, cols = same_padding(x.shape[1], kernel[0], stride), same_padding(x.shape[2], kernel[1], stride)
    return np.pad(x, ((0, 0), rows, cols, (0, 0)))


def patches(x: np.ndarray, kernel: tuple[int, int], stride: int) -> np.ndarray:
    """(n, H, W, C) -> (n, P, Q, kh, kw, C) windows of a padded input (a view, no copy)."""
    kh, kw = kernel
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # (n, P', Q', C, kh, kw)
    return windows[:, ::stride, ::stride].transpose(0, 1, 2, 4, 5, 3)


@lru_cache(maxsize=64)
def _signed_table(table_bytes: bytes) -> np.ndarray:
    table = np.frombuffer(table_bytes, dtype=np.uint16).reshape(256, 256).astype(np.int32)
    q = np.arange(-255, 256)
    sign = (np.sign(q)[:, None] * np.sign(q)[None, :]).astype(np.int32)
    signed = sign * table[np.abs(q)[:, None], np.abs(q)[None, :]]
    return np.ascontiguousarray(signed.ravel())


def signed_table(table: np.ndarray) -> np.ndarray:
    """Flat int32 table of 511 x 511 signed products, index (q_x + 255) * 511 + (q_w + 255)."""
    return _signed_table(np.ascontiguousarray(table, dtype=np.uint16).tobytes())


def grouped_dot(x: np.ndarray, w: np.ndarray, table: np.ndarray | None, shift: int) -> np.ndarray:
    """Integer dot products of grouped operands: x (rows, G, K) and w (G, K, Mg) -> (rows, G, Mg) int64.

    table: a 256x256 product table (operands must be within +-255), or None for exact products. shift: each
    product is arithmetically shifted right by `shift` bits (a psum register that drops LSBs) before summing.
    Without a table and without a shift this is one exact float64 matmul (integers < 2^53)."""
    if table is None and shift == 0:
        return np.rint(np.einsum("rgk,gkm->rgm", x.astype(np.float64), w.astype(np.float64))).astype(np.int64)
    rows, groups, k = x.shape
    mg = w.shape[2]
    out = np.empty((rows, groups, mg), dtype=np.int64)
    step = max(1, CHUNK_ELEMENTS // max(1, groups * k * mg))
    # int32 sums are exact while K x 65535 < 2^31 (products of 8-bit magnitudes), and ~1.5x faster
    accumulator = np.int32 if table is not None and k < 2**31 // 65536 else np.int64
    w_part: np.ndarray
    x_part: np.ndarray
    if table is not None:
        flat = signed_table(table)
        w_part = (w.astype(np.int32) + 255)[None]  # (1, G, K, Mg)
        x_part = ((x.astype(np.int32) + 255) * 511)[..., None]  # (rows, G, K, 1)
    else:
        w_part, x_part = w.astype(np.int64)[None], x.astype(np.int64)[..., None]
    for start in range(0, rows, step):
        if table is not None:
            products = np.take(flat, x_part[start : start + step] + w_part)
        else:
            products = x_part[start : start + step] * w_part
        if shift:
            products >>= shift
        out[start : start + step] = products.sum(axis=2, dtype=accumulator)
    return out


def pool(x: np.ndarray, size: tuple[int, int], stride: tuple[int, int], padding: str, mode: str) -> np.ndarray:
    if padding == "same":
        rows, cols = same_padding(x.shape[1], size[0], stride[0]), same_padding(x.shape[2], size[1], stride[1])
        fill = -np.inf if mode == "max" else np.nan
        x = np.pad(x, ((0, 0), rows, cols, (0, 0)), constant_values=fill)
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=(1, 2))[:, :: stride[0], :: stride[1]]
    return windows.max(axis=(-2, -1)) if mode == "max" else np.nanmean(windows, axis=(-2, -1))
