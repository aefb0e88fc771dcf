"""Counter-based pseudo-randomness: every value is a pure function of a key and an integer, never a state.

Because nothing is drawn in sequence, any instant of the simulated market can be computed directly, without
replaying the history before it. The mixer is SplitMix64's finaliser, vectorised with numpy; all float work
is elementwise (``+ - * /`` are correctly rounded), so a value is the same whatever array it was computed in.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray

__all__ = ["U64", "Octaves", "key_of", "mix", "mix_scalar", "unit"]

U64 = NDArray[np.uint64]
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB
_UNIT = 2.0**-52


def key_of(*parts: object) -> int:
    """A 64-bit key from text parts (a seed, a symbol, a purpose); stable across runs and platforms."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def mix_scalar(value: int) -> int:
    """SplitMix64 of one Python integer (taken modulo 2**64)."""
    value = (value + _GOLDEN) & _MASK
    value = ((value ^ (value >> 30)) * _MUL1) & _MASK
    value = ((value ^ (value >> 27)) * _MUL2) & _MASK
    return value ^ (value >> 31)


def mix(values: U64) -> U64:
    """SplitMix64 of every element (numpy wraps uint64 arithmetic of arrays silently)."""
    values = values + np.uint64(_GOLDEN)
    values = (values ^ (values >> np.uint64(30))) * np.uint64(_MUL1)
    values = (values ^ (values >> np.uint64(27))) * np.uint64(_MUL2)
    return values ^ (values >> np.uint64(31))


def unit(hashes: U64) -> F64:
    """Uniform floats in [-1, 1) from 64-bit hashes (the top 53 bits, exactly representable)."""
    return (hashes >> np.uint64(11)).astype(np.float64) * _UNIT - 1.0


class Octaves:
    """A sum of piecewise-linear noise layers: knots ``spacing_ms`` apart hold hashed values in [-1, 1).

    With amplitudes proportional to the square root of the spacing, the sum behaves like a random walk
    between the finest and the coarsest spacing (its variance grows linearly with the lag), yet it is
    evaluated at any instant with one pair of hashes per layer.
    """

    def __init__(self, key: int, spacings_ms: tuple[int, ...], amplitudes: tuple[float, ...]) -> None:
        self._layers = tuple(
            (np.uint64(mix_scalar(key ^ (index << 56))), np.int64(spacing), amplitude)
            for index, (spacing, amplitude) in enumerate(zip(spacings_ms, amplitudes, strict=True))
        )

    def __call__(self, times_ms: I64) -> F64:
        total = np.zeros(times_ms.shape, dtype=np.float64)
        for layer_key, spacing, amplitude in self._layers:
            index = times_ms // spacing
            fraction = (times_ms - index * spacing).astype(np.float64) / float(spacing)
            knots = index.astype(np.uint64)
            left = unit(mix(knots ^ layer_key))
            right = unit(mix((knots + np.uint64(1)) ^ layer_key))
            total += amplitude * (left + (right - left) * fraction)
        return total
