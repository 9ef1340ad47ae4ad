"""Approximate 8x8 unsigned multiplier families, built from their published definitions as 256x256 product tables.

Every table is `uint16[a, b]` = the product the circuit outputs for operands a, b in 0..255 (the first operand
a is the activation, the second b the weight, as in tf-approximate's index a*256+b). Names (`family_table`):

  exact          a * b
  trunc<k>       truncated array multiplier: the partial-product bits a_i b_j of the k least significant
                 columns (i + j < k) are dropped, no compensation; k = 1..15.
  bam_h<h>_v<v>  broken-array multiplier (Mahdiani et al., IEEE TCAS-I 2010): the partial-product cells above
                 the horizontal break line (rows j < h of the second operand b) and right of the vertical break
                 line (columns i + j < v) are omitted; h = 0..8, v = 0..15. bam_h0_v<k> == trunc<k>.
  mitchell       Mitchell's logarithmic multiplier (IRE Trans. Electronic Computers, 1962): a = 2^k1 (1 + x1),
                 b = 2^k2 (1 + x2); product 2^(k1+k2) (1 + x1 + x2) if x1 + x2 < 1, else 2^(k1+k2+1) (x1 + x2);
                 0 if either operand is 0. For integer operands the result is an integer (no rounding).
  drum<k>        DRUM-k (Hashemi, Bahar, Reda, ICCAD 2015): an operand of at most k bits is used as is; a longer
                 one keeps the k bits from its leading one down, with the lowest kept bit set to 1 (unbiasing),
                 and zeros below; the two approximated operands are multiplied exactly. k = 2..7 (drum8 = exact).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

OPERANDS = np.arange(256, dtype=np.int64)
_TRUNC = re.compile(r"^trunc(\d+)$")
_BAM = re.compile(r"^bam_h(\d+)_v(\d+)$")
_DRUM = re.compile(r"^drum(\d+)$")


class FamilyError(ValueError):
    """An unknown family name or out-of-range parameter."""


def is_family(name: str) -> bool:
    return name in ("exact", "mitchell") or any(p.match(name) for p in (_TRUNC, _BAM, _DRUM))


def exact_table() -> np.ndarray:
    return (OPERANDS[:, None] * OPERANDS[None, :]).astype(np.uint16)


def _bits(values: np.ndarray) -> np.ndarray:
    """values (n,) -> (n, 8) array of bits, LSB first."""
    return (values[:, None] >> np.arange(8)) & 1


def broken_array_table(h: int, v: int) -> np.ndarray:
    """Sum of the kept partial-product bits a_i b_j 2^(i+j), kept when j >= h and i + j >= v."""
    if not (0 <= h <= 8 and 0 <= v <= 15):
        raise FamilyError(f"bam_h{h}_v{v}: need 0 <= h <= 8 and 0 <= v <= 15")
    i, j = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    keep = ((j >= h) & (i + j >= v)).astype(np.int64)  # (i, j)
    weight = keep * (1 << (i + j))
    bits = _bits(OPERANDS)
    return np.einsum("ai,bj,ij->ab", bits, bits, weight).astype(np.uint16)


def truncated_table(k: int) -> np.ndarray:
    if not 1 <= k <= 15:
        raise FamilyError(f"trunc{k}: need 1 <= k <= 15 dropped columns")
    return broken_array_table(0, k)


def _leading_one(values: np.ndarray) -> np.ndarray:
    """floor(log2 v) for v >= 1 (0 for v = 0)."""
    return np.where(values > 0, np.floor(np.log2(np.maximum(values, 1))).astype(np.int64), 0)


def mitchell_table() -> np.ndarray:
    a, b = OPERANDS[:, None], OPERANDS[None, :]
    k1, k2 = _leading_one(a), _leading_one(b)
    r1, r2 = a - (1 << k1), b - (1 << k2)  # mantissa remainders: x = r / 2^k
    cross = r1 * (1 << k2) + r2 * (1 << k1)  # 2^(k1+k2) (x1 + x2)
    base = 1 << (k1 + k2)
    product = np.where(cross < base, base + cross, 2 * cross)
    return np.where((a == 0) | (b == 0), 0, product).astype(np.uint16)


def drum_operand(values: np.ndarray, k: int) -> np.ndarray:
    """DRUM-k approximation of operands (exact below 2^k)."""
    t = _leading_one(values)
    shift = np.maximum(t - k + 1, 0)
    kept = (values >> shift) | np.where(shift > 0, 1, 0)
    return kept << shift


def drum_table(k: int) -> np.ndarray:
    if not 2 <= k <= 8:
        raise FamilyError(f"drum{k}: need 2 <= k <= 8 kept bits")
    approx = drum_operand(OPERANDS, k)
    return (approx[:, None] * approx[None, :]).astype(np.uint16)


@lru_cache(maxsize=64)
def family_table(name: str) -> np.ndarray:
    """The product table of a family instance (read-only; cached)."""
    if name == "exact":
        table = exact_table()
    elif name == "mitchell":
        table = mitchell_table()
    elif match := _TRUNC.match(name):
        table = truncated_table(int(match.group(1)))
    elif match := _BAM.match(name):
        table = broken_array_table(int(match.group(1)), int(match.group(2)))
    elif match := _DRUM.match(name):
        table = drum_table(int(match.group(1)))
    else:
        raise FamilyError(f"unknown multiplier family {name!r} (exact, mitchell, trunc<k>, bam_h<h>_v<v>, drum<k>)")
    table.setflags(write=False)
    return table


def kept_partial_products(name: str) -> int:
    """Partial-product bits (AND cells) of the 8x8 array a family instance keeps (exact: 64)."""
    if name == "exact":
        return 64
    if match := _TRUNC.match(name):
        h, v = 0, int(match.group(1))
    elif match := _BAM.match(name):
        h, v = int(match.group(1)), int(match.group(2))
    else:
        raise FamilyError(f"{name!r} is not an array-based family (trunc<k>, bam_h<h>_v<v>)")
    return sum(1 for i in range(8) for j in range(8) if j >= h and i + j >= v)


def estimated_relative_power(name: str) -> float:
    """First-order relative power (= relative area) of a family instance vs the exact 8x8 array multiplier.

    A proxy, not a synthesis result: the share of the exact array's 64 partial-product bits the circuit's core
    datapath keeps. trunc / bam: kept bits / 64. drum<k>: its k x k core array, k^2 / 64. mitchell: one 10-bit
    adder (3-bit characteristic + 7-bit fraction) ~ 10 / 64. Leading-one detectors and shifters (DRUM, Mitchell)
    are not counted, so those two are optimistic. Give measured figures in the choices file's `multipliers:`.
    """
    if name == "mitchell":
        return 10 / 64
    if match := _DRUM.match(name):
        k = int(match.group(1))
        return 1.0 if k >= 8 else k * k / 64
    return kept_partial_products(name) / 64
