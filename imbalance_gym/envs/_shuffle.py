"""Lazy Fisher-Yates shuffling driven by a counter-based generator (pure numpy).

The ICMDP shuffles its data at the start of every episode (DQNimb Algorithm 1). Drawing
a whole permutation per reset costs O(N) even when an episode ends after a few steps
(it terminates on the first misclassified minority sample), and a vector env with
thousands of lanes cannot call one ``np.random.Generator`` per lane without a Python loop.

So the order is revealed lazily: when position ``t`` of an episode is reached, it is
swapped with a position ``j_t`` drawn uniformly from ``[t, n)`` -- one step of the
Fisher-Yates shuffle. Applied to positions ``0, 1, ...`` this yields a uniformly random
permutation whatever order the array was left in by earlier episodes, so nothing is
reset between episodes. The draw ``j_t`` is a pure function of ``(key, episode, t)``
(SplitMix64 of a counter, Steele, Lea & Flood 2014), so a single env and lane ``i`` of
the vector env produce identical orders, and every lane draws in one numpy call. The
``key`` of a lane is drawn from the env's ``np_random`` when it is seeded.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = (np.uint64(s) for s in (30, 27, 31, 32))


def splitmix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 output function, elementwise on ``uint64`` arrays (wraps mod 2**64)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> _S30)) * _MIX1
        z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


def episode_stream(key, episode):
    """Start of the counter stream of one (lane, episode): ``key + (episode * 2**32 + 1) * golden``.

    Arguments are ``uint64`` scalars or arrays (broadcast); the result wraps mod 2**64.
    """
    episode = np.asarray(episode, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return np.asarray(key, dtype=np.uint64) + ((episode << _S32) + np.uint64(1)) * _GOLDEN


def draws_from_stream(stream, pos, n: int) -> np.ndarray:
    """Swap targets of a lazy Fisher-Yates shuffle from precomputed episode streams.

    ``j = pos + floor(u * (n - pos) / 2**32)`` with ``u`` the top 32 bits of the SplitMix64
    output at counter ``pos`` of the stream (a multiply-shift map onto ``[pos, n)``,
    which avoids a 64-bit division per lane).

    Args:
        stream: :func:`episode_stream` of each lane, ``uint64``, shape ``[B]`` or scalar.
        pos: positions being revealed, ``uint64`` in ``[0, n)``, shape ``[B]``.
        n: number of samples being shuffled (``n < 2**32``).

    Returns:
        ``uint64`` array of the broadcast shape with ``pos <= j < n``.
    """
    pos = np.asarray(pos, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = splitmix64(stream + pos * _GOLDEN)
    return pos + (((z >> _S32) * (np.uint64(n) - pos)) >> _S32)


def shuffle_draws(key, episode, pos, n: int) -> np.ndarray:
    """Swap targets ``j`` in ``[pos, n)`` of a lazy Fisher-Yates shuffle.

    ``j`` is a pure function of ``(key, episode, pos)``: the draw at counter
    ``episode * 2**32 + pos`` of the SplitMix64 stream seeded by ``key``. Arguments
    broadcast against each other.

    Args:
        key: per-lane stream keys, ``uint64``, shape ``[B]`` or scalar.
        episode: episode counters, ``uint64``, shape ``[B]`` or scalar.
        pos: positions being revealed, integers in ``[0, n)``, shape ``[B]``.
        n: number of samples being shuffled (``n < 2**32``).

    Returns:
        ``uint64`` array of the broadcast shape with ``pos <= j < n``.
    """
    return draws_from_stream(episode_stream(key, episode), pos, n)


def reveal(perm, p, q):
    """One lazy Fisher-Yates step: swap ``perm[p]`` and ``perm[q]``; return the new ``perm[p]``.

    ``p`` is the position being revealed and ``q`` its swap target from
    :func:`shuffle_draws` (offset by the lane's start in a flat array of lanes). Works on a
    Python list with integer positions (the single env) and on a flat numpy array with
    ``intp`` position arrays, one entry per lane (the vector env), so both envs share it.
    """
    a = perm[p]
    b = perm[q]
    perm[p] = b
    perm[q] = a
    return b
