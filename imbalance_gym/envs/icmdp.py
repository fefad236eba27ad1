"""The Imbalanced Classification MDP (ICMDP) of DQNimb (Lin et al., sec. III-A/B).

One step = the agent labels one training sample. The module has three layers:

1. a pure core -- :func:`icmdp_reward_table` (eq. 1 and Algorithm 2 as a lookup table),
   :func:`icmdp_reward` and :func:`icmdp_transition` -- written so that the same
   expressions run on Python scalars (single env) and on numpy arrays (vector env);
2. :class:`ICMDPEnv`, a thin ``gym.Env`` shell around the core;
3. :class:`ICMDPVectorEnv`, a native ``gym.vector.VectorEnv`` that steps every lane with
   numpy array operations and adds only batching and autoreset.

The sample order of each episode comes from :mod:`imbalance_gym.envs._shuffle`, so lane
``i`` of the vector env seeded with ``s`` replays a single env seeded with ``s + i``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from imbalance_gym.envs._inputs import (
    OBSERVATION_KINDS,
    check_features,
    check_labels,
    check_ratio,
    check_seed,
    load_split,
)
from imbalance_gym.envs._shuffle import draws_from_stream, episode_stream, reveal, shuffle_draws

__all__ = [
    "ICMDPEnv",
    "ICMDPVectorEnv",
    "default_class_weights",
    "icmdp_reward",
    "icmdp_reward_table",
    "icmdp_transition",
]

_KEY_HIGH = np.iinfo(np.int64).max  # lane keys are drawn in [0, 2**63 - 1)
_DRAW_CHUNK_MIN, _DRAW_CHUNK_MAX = 32, 1024  # single env: shuffle draws per numpy call
_PREFETCH_EPISODES = 64  # single env: episode starts whose first draws come in one call


# --------------------------------------------------------------------------------------
# Pure core
# --------------------------------------------------------------------------------------
def default_class_weights(class_counts: Sequence[int]) -> np.ndarray:
    """Reward weight of each class: ``w_c = min_k N_k / N_c``, so the rarest class gets 1.

    For two classes with 1 = minority this is DQNimb eq. (1) with ``lambda = rho =
    N_min / N_maj``: ``w = [rho, 1]``. For more classes each weight is proportional to
    ``1 / N_c`` and the largest is 1.

    Args:
        class_counts: number of samples per class, shape ``[C]``, all positive.

    Returns:
        ``float64`` array of shape ``[C]``.
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size < 2 or np.any(counts <= 0):
        raise ValueError(f"class_counts must hold >= 2 positive counts, got {counts.tolist()}")
    return counts.min() / counts


def icmdp_reward_table(
    class_weights: Sequence[float], terminal_classes: Sequence[int] = (1,), *, training: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Reward and termination of every (true class, action) pair: DQNimb eq. (1), Alg. 2.

    ``R[c, a] = +w_c`` if ``a == c`` else ``-w_c``; ``T[c, a] = (a != c) and c in
    terminal_classes`` (only in training: an evaluation pass never terminates early).
    With ``w = [lambda, 1]`` this is eq. (1): minority correct +1, minority wrong -1 and
    terminal, majority correct +lambda, majority wrong -lambda.

    Args:
        class_weights: ``w_c >= 0`` per class, shape ``[C]``.
        terminal_classes: classes whose misclassification ends a training episode.
        training: when False, ``T`` is all False.

    Returns:
        ``(R, T)``: ``float64`` and ``bool`` arrays of shape ``[C, C]`` indexed
        ``[true class, action]``.
    """
    w = np.asarray(class_weights, dtype=np.float64)
    if w.ndim != 1 or w.size < 2:
        raise ValueError(f"class_weights must have one weight per class (>= 2), got {w.tolist()}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"class_weights must be finite and >= 0, got {w.tolist()}")
    n_classes = w.size
    terminal = np.zeros(n_classes, dtype=bool)
    for c in terminal_classes:
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c < n_classes:
            raise ValueError(
                f"terminal_classes must hold class labels in 0..{n_classes - 1}, got {list(terminal_classes)}"
            )
        terminal[c] = True
    correct = np.eye(n_classes, dtype=bool)
    reward = np.where(correct, w[:, None], -w[:, None])
    term = ~correct & terminal[:, None] & training
    return reward, term


def icmdp_reward(y_true, y_pred, class_weights, terminal_classes: Sequence[int] = (1,)):
    """Vectorised DQNimb reward (eq. 1) and training termination (Algorithm 2).

    Args:
        y_true: true classes, int array of any shape.
        y_pred: actions (predicted classes), same shape.
        class_weights: ``[C]`` reward weights, e.g. ``[lambda, 1]``.
        terminal_classes: classes whose misclassification terminates (default: 1, the
            minority class under the project's label convention).

    Returns:
        ``(reward, terminated)`` arrays of the input shape (``float64``, ``bool``).
    """
    table_r, table_t = icmdp_reward_table(class_weights, terminal_classes)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    return table_r[y_true, y_pred], table_t[y_true, y_pred]


def icmdp_transition(reward_flat, terminal_flat, n_classes, label, action, pos, n):
    """One ICMDP step for one sample (Python scalars) or one per lane (numpy arrays).

    The sample at position ``pos`` of the episode's order has class ``label`` and is
    labelled ``action``. The reward and termination come from the flattened tables of
    :func:`icmdp_reward_table`; the episode is *truncated* when the data is used up
    without termination (every one of the ``n`` samples is scored exactly once).

    Args:
        reward_flat: ``R.ravel()`` as a list (scalars) or array (lanes).
        terminal_flat: ``T.ravel()`` likewise.
        n_classes: ``C``.
        label, action, pos: ints, or int arrays of shape ``[E]``.
        n: number of samples in the data.

    Returns:
        ``(reward, terminated, truncated, next_pos)``.
    """
    flat = label * n_classes + action
    reward = reward_flat[flat]
    terminated = terminal_flat[flat]
    next_pos = pos + 1
    # ``x ^ True`` negates a Python bool and a numpy bool array alike.
    truncated = (next_pos >= n) & (terminated ^ True)
    return reward, terminated, truncated, next_pos


# --------------------------------------------------------------------------------------
# Problem set-up shared by both shells
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Problem:
    """Validated data and derived tables of one ICMDP instance."""

    X: np.ndarray
    y: np.ndarray
    n_classes: int
    kind: str
    observation_space: spaces.Box
    action_space: spaces.Discrete
    class_weights: np.ndarray
    terminal_classes: tuple[int, ...]
    training: bool
    reward_flat: np.ndarray
    terminal_flat: np.ndarray
    task_info: dict | None


def _build_problem(
    X, y, *, dataset, ratio, imbalance_ratio, split, mode, reward_lambda, class_weights,
    terminal_classes, observation, vocab_size, seed, data_home,
) -> _Problem:
    """Check every argument, load data if named, and derive spaces and reward tables."""
    if observation not in OBSERVATION_KINDS:
        raise ValueError(f"observation must be one of {OBSERVATION_KINDS}, got {observation!r}")
    if mode not in (None, "train", "eval"):
        raise ValueError(f"mode must be 'train', 'eval' or None, got {mode!r}")
    seed = check_seed(seed)
    ratio = check_ratio(ratio)
    if reward_lambda is not None:
        if isinstance(reward_lambda, bool) or not isinstance(reward_lambda, (int, float, np.number)):
            raise TypeError(f"reward_lambda must be a number >= 0, got {reward_lambda!r}")
        if not np.isfinite(reward_lambda) or reward_lambda < 0:
            raise ValueError(f"reward_lambda must be a finite number >= 0, got {reward_lambda!r}")
    if reward_lambda is not None and class_weights is not None:
        raise ValueError("pass reward_lambda (binary) or class_weights, not both")

    task_info = None
    train_counts = None
    if dataset is not None:
        if X is not None or y is not None:
            raise ValueError("pass either dataset= or X=, y=, not both")
        if not isinstance(dataset, str):
            raise TypeError(f"dataset must be a dataset name (str), got {type(dataset).__name__}")
        X, y, task = load_split(dataset, split, ratio=ratio, imbalance_ratio=imbalance_ratio,
                                seed=seed, data_home=data_home)
        task_info = dict(task.info)
        train_counts = np.bincount(np.asarray(task.y_train, dtype=np.int64))
        if observation == "auto":
            observation = {"text": "tokens"}.get(task_info.get("kind"), "auto")
        if vocab_size is None:  # token ids run 0..num_embeddings-1 (pad, out-of-vocabulary, words)
            vocab_size = task_info.get("num_embeddings")
    else:
        if ratio is not None or imbalance_ratio is not None:
            raise ValueError("ratio= and imbalance_ratio= apply to dataset=; arrays are used as given")
        if split != "train":
            raise ValueError("split= applies to dataset=; pass the split's arrays as X=, y=")
    X = check_features(X)
    y, n_classes = check_labels(y, X.shape[0])
    counts = np.bincount(y, minlength=n_classes)
    if train_counts is None or train_counts.size != n_classes:
        train_counts = counts

    if mode is None:
        mode = "train" if split == "train" else "eval"
    training = mode == "train"

    # Weights: explicit > reward_lambda (binary) > 1/N_c of the training data.
    minority = int(np.flatnonzero(train_counts == train_counts.min())[-1])
    if class_weights is not None:
        weights = np.asarray(class_weights, dtype=np.float64)
        if weights.shape != (n_classes,):
            raise ValueError(
                f"class_weights must have one weight per class ({n_classes}), got shape {weights.shape}"
            )
    elif reward_lambda is not None:
        if n_classes != 2:
            raise ValueError(
                f"reward_lambda applies to binary data; this data has {n_classes} classes, "
                "pass class_weights= instead"
            )
        weights = np.full(2, float(reward_lambda))
        weights[minority] = 1.0
    else:
        weights = default_class_weights(train_counts)
    if terminal_classes is None:
        terminal_classes = (minority,)
    terminal_classes = tuple(terminal_classes)
    table_r, table_t = icmdp_reward_table(weights, terminal_classes, training=training)

    X, obs_space, kind = _observation(X, observation, vocab_size)
    return _Problem(
        X=X, y=y, n_classes=n_classes, kind=kind, observation_space=obs_space,
        action_space=spaces.Discrete(n_classes), class_weights=weights,
        terminal_classes=terminal_classes, training=training,
        reward_flat=table_r.ravel(), terminal_flat=table_t.ravel(), task_info=task_info,
    )


def _observation(X: np.ndarray, observation: str, vocab_size) -> tuple[np.ndarray, spaces.Box, str]:
    """Decide the observation kind and space; convert dtype only (never rescale)."""
    if observation == "auto":
        observation = "tabular" if X.ndim == 2 else "image"
    if observation == "tabular":
        if X.ndim != 2:
            raise ValueError(f"tabular observations need X of shape [N, D], got {X.shape}")
        X = np.ascontiguousarray(X, dtype=np.float32)
        if not np.isfinite(X).all():
            raise ValueError("X overflows float32 (values beyond +-3.4e38)")
        space = spaces.Box(-np.inf, np.inf, shape=X.shape[1:], dtype=np.float32)
        return X, space, "tabular"
    if observation == "image":
        if X.ndim == 3:
            X = X[:, None]
        if X.ndim != 4:
            raise ValueError(f"image observations need X of shape [N, C, H, W] or [N, H, W], got {X.shape}")
        if X.dtype == np.uint8:
            X = np.ascontiguousarray(X)
            space = spaces.Box(0, 255, shape=X.shape[1:], dtype=np.uint8)
        else:
            X = np.ascontiguousarray(X, dtype=np.float32)
            space = spaces.Box(-np.inf, np.inf, shape=X.shape[1:], dtype=np.float32)
        return X, space, "image"
    # tokens
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.integer):
        raise ValueError(f"token observations need integer X of shape [N, L], got {X.dtype} {X.shape}")
    if X.min() < 0:
        raise ValueError("token ids must be >= 0")
    top = int(X.max())
    if vocab_size is None:
        vocab_size = top + 1
    if not isinstance(vocab_size, (int, np.integer)) or vocab_size <= top:
        raise ValueError(f"vocab_size must be an integer > the largest token id {top}, got {vocab_size!r}")
    X = np.ascontiguousarray(X, dtype=np.int64)
    space = spaces.Box(0, int(vocab_size) - 1, shape=X.shape[1:], dtype=np.int64)
    return X, space, "tokens"


def _lane_key(np_random: np.random.Generator) -> int:
    """Draw the shuffle key of one lane from an env's generator."""
    return int(np_random.integers(0, _KEY_HIGH, dtype=np.int64))


_ENV_KWARGS = frozenset({
    "X", "y", "dataset", "ratio", "imbalance_ratio", "split", "mode", "reward_lambda",
    "class_weights", "terminal_classes", "observation", "vocab_size", "seed", "data_home",
})

_DOC_ARGS = """
    Arguments (keyword):
        X, y: features ``[N, D]`` (float), images ``[N, C, H, W]`` / ``[N, H, W]`` or token
            ids ``[N, L]``, and integer labels ``0..C-1``. Used as given: the dtype may be
            converted (float32 features), values are never rescaled.
        dataset: a name from :func:`imbalance_gym.datasets.list_datasets` instead of arrays.
        ratio: rho = N_min / N_maj in (0, 1] for ``dataset=`` (DQNimb protocol).
        imbalance_ratio: IR = N_maj / N_min for ``dataset=`` (AutoSMOTE protocol).
        split: ``"train"``, ``"val"`` or ``"test"`` split of the named task.
        mode: ``"train"`` (shuffle, terminate early) or ``"eval"`` (fixed order, one pass);
            default ``"train"`` for the train split, ``"eval"`` otherwise.
        reward_lambda: lambda of eq. (1) for binary data, >= 0 (default rho of the
            training data).
        class_weights: explicit reward weight per class (any number of classes).
        terminal_classes: classes whose misclassification ends a training episode
            (default: the rarest class).
        observation: ``"auto"``, ``"tabular"``, ``"image"`` or ``"tokens"``.
        vocab_size: token vocabulary size for ``observation="tokens"``.
        seed: seeds the named task's splits and the first ``reset()`` that has no seed.
        data_home: data folder for ``dataset=`` (default ``IMBALANCE_GYM_DATA``).
"""


# --------------------------------------------------------------------------------------
# Single environment
# --------------------------------------------------------------------------------------
class ICMDPEnv(gym.Env):
    __doc__ = """Imbalanced classification as a sequential decision game (DQNimb ICMDP).

    ## Description
    Each step shows the agent one sample of a (usually imbalanced) dataset; the action is
    the predicted class. Correct labels are rewarded, wrong ones penalised, minority
    samples ten to a thousand times more than majority samples, so that a return-
    maximising policy is a classifier that does not ignore the minority class.

    ## Action Space
    ``Discrete(C)``: the predicted class. Anything else raises ``ValueError``/``TypeError``.

    ## Observation Space
    One sample of the data:

    | data | space | dtype |
    |------|-------|-------|
    | tabular ``[N, D]`` | ``Box(-inf, inf, (D,))`` | float32 |
    | images ``[N, C, H, W]`` uint8 | ``Box(0, 255, (C, H, W))`` | uint8 |
    | token ids ``[N, L]`` | ``Box(0, vocab - 1, (L,))`` | int64 |

    ## Rewards
    DQNimb eq. (1): for a sample of class ``c`` and action ``a``, ``+w_c`` if ``a == c``
    else ``-w_c``. Binary data: ``w = [lambda, 1]`` (majority, minority) with
    ``lambda = rho = N_min / N_maj`` of the training data by default. ``C > 2`` classes:
    ``w_c = min_k N_k / N_c``, which reduces to eq. (1) for two classes.

    ## Starting State
    ``reset`` reveals the first sample of a fresh uniformly random order of the data
    (training mode) or row 0 (evaluation mode).

    ## Episode End
    - Termination (training mode only): the agent misclassifies a sample of a terminal
      class (default: the minority class), DQNimb Algorithm 2.
    - Truncation: the data is used up; every sample has been scored exactly once.
      Running out of samples is a truncation, not a termination: the value of a sample
      does not depend on where it fell in the shuffled order, so learners should
      bootstrap there. Evaluation mode only ends this way, after one full pass.
    - On the final step the observation is the episode's first sample (a uniform draw
      from the data), a valid next state to bootstrap from.

    ``info`` of every step has ``label`` (true class of the sample just classified) and
    ``index`` (its row in the data). In evaluation mode the final step adds
    ``confusion_matrix`` (``[C, C]`` counts of the pass, rows = true class).
    {args}
    ## Version History
    - v0: initial version.
    """.format(args=_DOC_ARGS)

    metadata = {"render_modes": []}

    def __init__(
        self, X=None, y=None, *, dataset: str | None = None, ratio: float | None = None,
        imbalance_ratio: float | None = None, split: str = "train", mode: str | None = None,
        reward_lambda: float | None = None, class_weights=None, terminal_classes=None,
        observation: str = "auto", vocab_size: int | None = None, seed: int | None = None,
        data_home=None, render_mode: str | None = None,
    ):
        if render_mode is not None:
            raise ValueError(f"ICMDPEnv has no render modes, got render_mode={render_mode!r}")
        p = _build_problem(
            X, y, dataset=dataset, ratio=ratio, imbalance_ratio=imbalance_ratio, split=split,
            mode=mode, reward_lambda=reward_lambda, class_weights=class_weights,
            terminal_classes=terminal_classes, observation=observation, vocab_size=vocab_size,
            seed=seed, data_home=data_home,
        )
        self.problem = p
        self.observation_space = p.observation_space
        self.action_space = p.action_space
        self.render_mode = None
        self._X = p.X
        # One view per row: a list lookup is cheaper per step than numpy's scalar indexing
        # (about 5% of a step). Above 2**20 rows the views' memory (~100 B each) is not
        # worth it, and the array itself serves the same `rows[i]` lookups.
        self._rows = list(p.X) if p.X.shape[0] <= 1 << 20 else p.X
        self._n = p.X.shape[0]
        self._C = p.n_classes
        # Python lists make the per-step core run on scalars without numpy overhead.
        self._y = p.y.tolist()
        self._r = p.reward_flat.tolist()
        self._t = p.terminal_flat.tolist()
        self._training = p.training
        self._default_seed = seed
        self._key: int | None = None
        self._episode = 0
        self._perm: list[int] = list(range(self._n))
        self._pos: int | None = None
        self._cur = 0
        self._draws: list[int] = []
        self._draw_base = 0
        self._prefetch: tuple[int, list[list[int]]] | None = None
        self._conf = [0] * (self._C * self._C)

    # properties users and agents read
    @property
    def n_classes(self) -> int:
        """Number of classes ``C``."""
        return self._C

    @property
    def class_weights(self) -> np.ndarray:
        """Reward weight per class (``[lambda, 1]`` for binary data)."""
        return self.problem.class_weights.copy()

    @property
    def training(self) -> bool:
        """True in training mode (shuffle, early termination)."""
        return self.problem.training

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is None and self._key is None:
            seed = self._default_seed
        super().reset(seed=seed)
        if seed is not None or self._key is None:
            self._key = _lane_key(self.np_random)
            self._episode = 0
            self._perm = list(range(self._n))
            self._prefetch = None
        else:
            self._episode += 1
        self._conf = [0] * (self._C * self._C)
        self._pos = 0
        if self._training:
            self._draws = self._start_draws()
            self._draw_base = 0
        self._cur = self._reveal(0)
        return self._rows[self._cur].copy(), {}

    def _reveal(self, pos: int) -> int:
        """Sample index at ``pos`` of this episode's order (lazy Fisher-Yates)."""
        if not self._training:
            return pos
        k = pos - self._draw_base
        draws = self._draws
        if k >= len(draws):
            # Past the prefetched start of the episode: chunks double with the position.
            count = min(max(_DRAW_CHUNK_MIN, pos), _DRAW_CHUNK_MAX, self._n - pos)
            draws = self._draws = shuffle_draws(
                self._key, self._episode, np.arange(pos, pos + count, dtype=np.uint64), self._n
            ).tolist()
            self._draw_base = pos
            k = 0
        return reveal(self._perm, pos, draws[k])

    def _start_draws(self) -> list[int]:
        """Draws for the first positions of the current episode.

        Most training episodes end within a few dozen steps, so the draws of the first
        ``_DRAW_CHUNK_MIN`` positions of the next ``_PREFETCH_EPISODES`` episodes come from
        one numpy call; the values are those :func:`shuffle_draws` gives one at a time.
        """
        e = self._episode
        block = self._prefetch
        if block is None or not block[0] <= e < block[0] + len(block[1]):
            episodes = np.arange(e, e + _PREFETCH_EPISODES, dtype=np.uint64)[:, None]
            positions = np.arange(min(_DRAW_CHUNK_MIN, self._n), dtype=np.uint64)[None, :]
            block = self._prefetch = (e, shuffle_draws(self._key, episodes, positions, self._n).tolist())
        return block[1][e - block[0]]

    def step(self, action):
        pos = self._pos
        if pos is None:
            raise ResetNeeded("ICMDPEnv: call reset() before step() and after an episode ends")
        C = self._C
        if action.__class__ is int:
            a = action
        else:
            try:
                a = operator.index(action)
            except TypeError:
                raise TypeError(
                    f"action must be an integer class label in 0..{C - 1}, got {action!r}"
                ) from None
        if not 0 <= a < C:
            raise ValueError(f"action {a} is outside Discrete({C}): expected 0..{C - 1}")
        idx = self._cur
        label = self._y[idx]
        reward, terminated, truncated, pos = icmdp_transition(
            self._r, self._t, C, label, a, pos, self._n
        )
        info = {"label": label, "index": idx}
        if not self._training:
            self._conf[label * C + a] += 1
        if terminated or truncated:
            self._pos = None
            if self._training:
                nxt = self._cur = self._perm[0]
            else:
                nxt = self._cur = 0
                info["confusion_matrix"] = np.array(self._conf, dtype=np.int64).reshape(C, C)
        else:
            self._pos = pos
            nxt = self._cur = self._reveal(pos)
        return self._rows[nxt].copy(), reward, terminated, truncated, info


# --------------------------------------------------------------------------------------
# Native vector environment
# --------------------------------------------------------------------------------------
class ICMDPVectorEnv(gym.vector.VectorEnv):
    __doc__ = """``num_envs`` ICMDP lanes stepped together with numpy array operations.

    Each lane is exactly an :class:`ICMDPEnv` (same core, same shuffle): seeded with
    ``seed``, lane ``i`` replays a single env seeded with ``seed + i``. The data is held
    once and shared by all lanes; each lane keeps its own order of the rows, so memory
    is ``num_envs * N`` times 2 bytes (N < 65536) or 4 bytes for the orders plus the data.

    Autoreset: ``autoreset_mode="same_step"`` (default, what Stable-Baselines3 expects)
    resets a finished lane within the same ``step`` and puts its last observation in
    ``info["final_obs"]`` and its last info in ``info["final_info"]``;
    ``"next_step"`` (Gymnasium's default) returns the last observation and resets on the
    following call, ignoring that lane's action. Infos follow Gymnasium's vector
    convention: ``info[key]`` is an array over lanes and ``info["_" + key]`` marks the
    lanes that have it.

    Arguments: ``num_envs`` and ``autoreset_mode``, then everything :class:`ICMDPEnv`
    takes (``seed`` seeds lane ``i`` with ``seed + i``).
    """

    def __init__(self, num_envs: int = 1, *, autoreset_mode: str | AutoresetMode = "same_step",
                 **kwargs):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        modes = {"same_step": AutoresetMode.SAME_STEP, "next_step": AutoresetMode.NEXT_STEP,
                 AutoresetMode.SAME_STEP: AutoresetMode.SAME_STEP,
                 AutoresetMode.NEXT_STEP: AutoresetMode.NEXT_STEP}
        if autoreset_mode not in modes:
            raise ValueError(
                f"autoreset_mode must be 'same_step' or 'next_step', got {autoreset_mode!r}"
            )
        self.autoreset_mode = modes[autoreset_mode]
        self.metadata = {"render_modes": [], "autoreset_mode": self.autoreset_mode}
        render_mode = kwargs.pop("render_mode", None)
        if render_mode is not None:
            raise ValueError(f"ICMDPVectorEnv has no render modes, got render_mode={render_mode!r}")
        unknown = set(kwargs) - _ENV_KWARGS
        if unknown:
            raise TypeError(f"unexpected keyword argument(s) {sorted(unknown)}; allowed: "
                            f"{sorted(_ENV_KWARGS | {'num_envs', 'autoreset_mode'})}")
        seed = kwargs.pop("seed", None)
        X = kwargs.pop("X", None)
        y = kwargs.pop("y", None)
        defaults = dict(dataset=None, ratio=None, imbalance_ratio=None, split="train", mode=None,
                        reward_lambda=None, class_weights=None, terminal_classes=None,
                        observation="auto", vocab_size=None, data_home=None)
        p = _build_problem(X, y, seed=seed, **{**defaults, **kwargs})
        self.problem = p
        self.num_envs = int(num_envs)
        self.single_observation_space = p.observation_space
        self.single_action_space = p.action_space
        self.observation_space = batch_space(p.observation_space, self.num_envs)
        self.action_space = batch_space(p.action_space, self.num_envs)
        self.render_mode = None
        self._default_seed = seed

        E, n, C = self.num_envs, p.X.shape[0], p.n_classes
        self._X, self._y, self._n, self._C = p.X, p.y, n, C
        self._r, self._t = p.reward_flat, p.terminal_flat
        self._training = p.training
        order_dtype = np.uint16 if n <= np.iinfo(np.uint16).max + 1 else np.uint32
        self._perm = np.empty(E * n, dtype=order_dtype)
        self._base = np.arange(E, dtype=np.intp) * n  # start of each lane in the flat orders
        self._key = np.zeros(E, dtype=np.uint64)
        self._episode = np.zeros(E, dtype=np.uint64)
        self._stream = np.zeros(E, dtype=np.uint64)  # episode_stream(key, episode), per lane
        self._pos = np.zeros(E, dtype=np.intp)
        self._cur = np.zeros(E, dtype=np.intp)
        self._conf = np.zeros(E * C * C, dtype=np.int64) if not p.training else None
        self._lane_cc = np.arange(E, dtype=np.int64) * (C * C)
        self._autoreset = np.zeros(E, dtype=bool)
        self._started = False

    @property
    def n_classes(self) -> int:
        """Number of classes ``C``."""
        return self._C

    # ---- lane bookkeeping -------------------------------------------------------------
    def _seed_lanes(self, lanes: np.ndarray, seeds: Sequence[int | None]) -> None:
        """Give each lane the key a single env reset with that seed would draw."""
        for lane, s in zip(lanes.tolist(), seeds):
            rng = seeding.np_random(s)[0] if s is not None else self.np_random
            self._key[lane] = _lane_key(rng)
        self._episode[lanes] = 0
        self._perm.reshape(self.num_envs, self._n)[lanes] = np.arange(self._n, dtype=self._perm.dtype)

    def _start_episodes(self, lanes: np.ndarray) -> None:
        """Reveal position 0 of a new episode on ``lanes`` (episode counters already set)."""
        self._pos[lanes] = 0
        if self._conf is not None:
            self._conf.reshape(self.num_envs, -1)[lanes] = 0
        if self._training:
            stream = episode_stream(self._key[lanes], self._episode[lanes])
            self._stream[lanes] = stream
            j = draws_from_stream(stream, np.zeros(lanes.size, np.uint64), self._n)
            base = self._base[lanes]
            self._cur[lanes] = reveal(self._perm, base, base + j.view(np.intp))
        else:
            self._cur[lanes] = 0

    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None):
        if seed is None and not self._started:
            seed = self._default_seed
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            super().reset(seed=int(seed))
            seeds = [int(seed) + i for i in range(self.num_envs)]
        elif seed is None:
            super().reset(seed=None)
            seeds = None
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed list must have num_envs={self.num_envs} entries, got {len(seeds)}")
            super().reset(seed=None)
        lanes = np.arange(self.num_envs)
        if seeds is not None:
            self._seed_lanes(lanes, seeds)
        elif not self._started:
            self._seed_lanes(lanes, [None] * self.num_envs)
        else:
            self._episode += np.uint64(1)
        self._start_episodes(lanes)
        self._autoreset[:] = False
        self._started = True
        return self._X[self._cur], {}

    def _check_actions(self, actions) -> np.ndarray:
        a = np.asarray(actions)
        if a.shape != (self.num_envs,):
            raise ValueError(f"actions must have shape ({self.num_envs},), got {a.shape}")
        if not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"actions must be integer class labels, got dtype {a.dtype}")
        a = a.astype(np.int64, copy=False)
        # one comparison catches both ends: negatives wrap to huge unsigned values
        if (a.view(np.uint64) >= self._C).any():
            bad = np.flatnonzero((a < 0) | (a >= self._C))[:5]
            raise ValueError(
                f"actions outside Discrete({self._C}) at lanes {bad.tolist()}: "
                f"{a[bad].tolist()}; expected 0..{self._C - 1}"
            )
        return a

    def step(self, actions):
        if not self._started:
            raise ResetNeeded("ICMDPVectorEnv: call reset() before step()")
        a = self._check_actions(actions)
        E, C, n = self.num_envs, self._C, self._n
        same_step = self.autoreset_mode == AutoresetMode.SAME_STEP
        pending = None
        if not same_step and self._autoreset.any():
            pending = self._autoreset  # next-step autoreset: these lanes reset instead

        idx = self._cur
        label = self._y[idx]
        reward, terminated, truncated, pos = icmdp_transition(
            self._r, self._t, C, label, a, self._pos, n
        )
        if pending is not None:
            reward[pending] = 0.0
            terminated[pending] = False
            truncated[pending] = False
        if self._conf is not None:
            cells = self._lane_cc + label * C + a
            self._conf[cells if pending is None else cells[~pending]] += 1
        done = terminated | truncated
        stop = done if pending is None else done | pending
        stop_lanes = np.flatnonzero(stop)

        # Advance every lane by one lazy Fisher-Yates step. A finished lane instead swaps
        # position 0 with itself: its order is left alone and it shows its first sample.
        if stop_lanes.size:
            pos[stop_lanes] = 0
        if self._training:
            j = draws_from_stream(self._stream, pos.view(np.uint64), n).view(np.intp)
            if stop_lanes.size:
                j[stop_lanes] = 0
            p = self._base + pos
            self._cur = reveal(self._perm, p, self._base + j).astype(np.intp)
        else:
            self._cur = pos.copy()
        self._pos = pos

        # Gymnasium's vector info convention: a lane that autoresets within this step
        # reports its step info under "final_info"; a lane reset by next-step autoreset
        # reports no step info.
        if same_step:
            has = ~done
        else:
            has = np.ones(E, dtype=bool) if pending is None else ~pending
        infos: dict[str, Any] = {"label": label, "_label": has, "index": idx, "_index": has}
        done_lanes = stop_lanes if pending is None else np.flatnonzero(done)
        if done_lanes.size:
            end_info: dict[str, Any] = {}
            if self._conf is not None:
                conf = np.zeros((E, C, C), dtype=np.int64)
                conf[done_lanes] = self._conf.reshape(E, C, C)[done_lanes]
                end_info = {"confusion_matrix": conf, "_confusion_matrix": done}
            if same_step:
                final_obs = np.empty(E, dtype=object)  # filled with None
                rows = self._X[self._cur[done_lanes]]
                for k, lane in enumerate(done_lanes.tolist()):
                    final_obs[lane] = rows[k]
                infos["final_obs"], infos["_final_obs"] = final_obs, done
                infos["final_info"] = {"label": label, "_label": done, "index": idx,
                                       "_index": done, **end_info}
                infos["_final_info"] = done
                self._episode[done_lanes] += np.uint64(1)
                self._start_episodes(done_lanes)
            else:
                infos.update(end_info)
        if pending is not None:
            lanes = np.flatnonzero(pending)
            self._episode[lanes] += np.uint64(1)
            self._start_episodes(lanes)
        if not same_step:
            self._autoreset = done
        return self._X[self._cur], reward, terminated, truncated, infos
