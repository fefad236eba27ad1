"""Text to token ids for the IMDB task (DQNimb Table II: sequences of 500 word ids)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain

import numpy as np

PAD_ID = 0
"""Id of the padding token."""
OOV_ID = 1
"""Id of every word outside the vocabulary."""
FIRST_WORD_ID = 2
"""Id of the most frequent vocabulary word."""

_BREAK = re.compile(r"<br\s*/?>", flags=re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-case a review, drop ``<br />`` tags and return its words.

    A word is a run of ASCII letters and digits, with inner apostrophes kept
    (``"don't"``); everything else separates words.
    """
    return _WORD.findall(_BREAK.sub(" ", text.lower()))


def build_vocabulary(token_lists: Iterable[Sequence[str]], vocab_size: int) -> dict[str, int]:
    """Map the ``vocab_size`` most frequent words to ids ``2 .. vocab_size + 1``.

    Ties in frequency are broken alphabetically so the vocabulary is deterministic.
    Fit it on the training split only.

    Args:
        token_lists: Tokenised training documents.
        vocab_size: Number of words kept (ids 0 and 1 are padding and out-of-vocabulary).

    Returns:
        Dict word -> id; it holds fewer words when the documents have fewer.
    """
    counts = Counter(chain.from_iterable(token_lists))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:vocab_size]
    return {word: FIRST_WORD_ID + rank for rank, (word, _) in enumerate(ranked)}


def encode(
    token_lists: Sequence[Sequence[str]], vocabulary: Mapping[str, int], max_len: int
) -> np.ndarray:
    """Turn tokenised documents into a padded id matrix.

    Each document keeps its first ``max_len`` words; shorter ones are padded with
    ``PAD_ID`` at the end; unknown words become ``OOV_ID``.

    Returns:
        int64 array [N, max_len].
    """
    out = np.full((len(token_lists), max_len), PAD_ID, dtype=np.int64)
    for row, tokens in enumerate(token_lists):
        ids = [vocabulary.get(word, OOV_ID) for word in tokens[:max_len]]
        out[row, : len(ids)] = ids
    return out
