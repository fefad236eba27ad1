"""Configuration, data set-up and the episode core shared by the AutoSMOTE environments.

:class:`AutoSMOTEConfig` holds the search-space and reward settings; :func:`build_problem`
validates the data and derives everything fixed for the life of an environment
(:class:`AutoSMOTEProblem`); :class:`EpisodeCore` keeps one episode's bookkeeping --
the chosen factors, the recorded low-level actions, the usage counts -- builds the
observations and computes the final reward. The hierarchical env and the flat env are
two action decodings over this one core.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from imbalance_gym import classifiers as _classifiers  # module import: see classifiers.py
from imbalance_gym.envs._inputs import check_features, check_labels, check_seed, load_split
from imbalance_gym.envs.smote_space import (
    N_USAGE_BINS,
    N_WEIGHTS,
    USAGE_BIN_WIDTH,
    generate,
    max_g2,
    minority_neighbours,
    usage_bin,
    usage_bins,
    usage_counts,
)

_INDEX = np.int32  # instance indices and action ids of the recorded low-level steps
_OFFSETS_MAX = 2**23  # floats (32 MiB) of precomputed neighbour offsets at most


def _positive_int(value: Any, name: str) -> int:
    """An integer >= 1 (bools rejected), or a ValueError/TypeError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class AutoSMOTEConfig:
    """Search space and reward of the AutoSMOTE environments (defaults: sec. 4.1).

    Attributes:
        G1: largest cross-instance factor ``g1`` (level 0 picks ``0..G1``); None means
            ``max(1, round(4 * IR / G2))`` so that ``G1 * G2`` is four times the
            imbalance ratio, as in the paper (rounded half up).
        G2: largest instance-specific factor ``g2`` (level 1 picks ``0..G2``); paper: 10.
        K: neighbours per minority instance; paper: 30. Capped at ``N_min - 1``.
        max_synthetic: upper bound on synthetic rows per episode; None means
            ``min(G1 * G2 * N_min, 10 * N_train)``, which never binds under the default
            ``G1``. See the environments' docstrings for what happens when it binds.
        classifier: base classifier name or estimator (:mod:`imbalance_gym.classifiers`).
        metric: reward metric name or callable; paper: Macro-F1 (default) and MCC.
    """

    G1: int | None = None
    G2: int = 10
    K: int = 30
    max_synthetic: int | None = None
    classifier: Any = "svm"
    metric: Any = "macro_f1"

    def __post_init__(self):
        if self.G1 is not None:
            _positive_int(self.G1, "G1")
        _positive_int(self.G2, "G2")
        _positive_int(self.K, "K")
        if self.max_synthetic is not None:
            _positive_int(self.max_synthetic, "max_synthetic")
        _classifiers.check_classifier(self.classifier)
        _classifiers.check_metric(self.metric)

    def g1_max(self, imbalance_ratio: float) -> int:
        """``G1``, or its paper default ``max(1, round(4 * IR / G2))`` for this IR."""
        if self.G1 is not None:
            return int(self.G1)
        return max(1, math.floor(4.0 * float(imbalance_ratio) / self.G2 + 0.5))


@dataclass(frozen=True)
class AutoSMOTEProblem:
    """Validated data and everything derived from it, fixed for an environment's life.

    Attributes:
        X_train, y_train: training data, float32 ``[N, D]`` and int64 ``[N]`` (1 = minority).
        X_val, y_val: validation data the reward is measured on.
        minority_index: training row of each minority instance, ascending, ``[N_min]``.
        X_min: the minority rows, ``[N_min, D]``.
        neighbours: top-``K`` minority neighbours (indices into ``X_min``), ``[N_min, K]``.
        imbalance_ratio: IR used for the default ``G1`` (the requested IR of a named
            task, else ``N_maj / N_min`` of the training data).
        G1, G2, K, max_synthetic: the resolved search space.
        classifier, metric: the reward's classifier and metric.
        task: the :class:`~imbalance_gym.datasets.Task` when built from ``dataset=``.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    minority_index: np.ndarray
    X_min: np.ndarray
    neighbours: np.ndarray
    imbalance_ratio: float
    G1: int
    G2: int
    K: int
    max_synthetic: int
    classifier: Any
    metric: Any
    task: Any = None

    @property
    def n_min(self) -> int:
        """Number of minority training instances ``N_min``."""
        return int(self.minority_index.size)

    @property
    def n_features(self) -> int:
        """Feature dimension ``D``."""
        return int(self.X_train.shape[1])


def _binary_labels(y, n_rows: int, name: str, x_name: str) -> np.ndarray:
    """Labels in {0, 1} with 1 the minority; multi-class input is an error."""
    y, n_classes = check_labels(y, n_rows, name=name, x_name=x_name)
    if n_classes != 2:
        raise ValueError(
            f"{name} has {n_classes} classes; AutoSMOTE is binary (1 = minority). For "
            "multi-class data build one environment per class in a one-vs-rest fashion, "
            "e.g. y_binary = (y == c).astype(int)"
        )
    return y


def _validation_labels(y_val, n_rows: int) -> np.ndarray:
    """Validation labels must lie in {0, 1}; one class alone is allowed."""
    y_val = np.asarray(y_val)
    if y_val.ndim != 1 or y_val.shape[0] != n_rows:
        raise ValueError(f"y_val must be 1-D with {n_rows} labels (one per X_val row), got shape {y_val.shape}")
    if y_val.size and not np.isin(y_val, (0, 1)).all():
        raise ValueError(f"y_val must hold labels 0 and 1, got {np.unique(y_val).tolist()}")
    return y_val.astype(np.int64)


def _float_features(X, name: str) -> np.ndarray:
    """2-D finite features as contiguous float32."""
    X = check_features(X, name)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D table [N, D] of features, got shape {X.shape}")
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} overflows float32 (values beyond +-3.4e38)")
    return X


def build_problem(X=None, y=None, *, X_val=None, y_val=None, dataset=None, imbalance_ratio=None,
                  data_home=None, val_size: float = 0.25, seed=None,
                  config: AutoSMOTEConfig) -> AutoSMOTEProblem:
    """Check the arguments, load or split the data and derive the search space.

    Every check runs before the (possibly slow) neighbour search.
    """
    seed = check_seed(seed)
    task = None
    if dataset is not None:
        if X is not None or y is not None or X_val is not None or y_val is not None:
            raise ValueError("pass either dataset= or arrays (X=, y=, X_val=, y_val=), not both")
        if not isinstance(dataset, str):
            raise TypeError(f"dataset must be a dataset name (str), got {type(dataset).__name__}")
        X, y, task = load_split(dataset, "train", ratio=None, imbalance_ratio=imbalance_ratio,
                                seed=seed, data_home=data_home)
        X_val, y_val = task.X_val, task.y_val
        if task.info.get("kind") != "tabular":
            raise ValueError(f"AutoSMOTE needs a tabular dataset, {dataset!r} is {task.info.get('kind')!r}")
    else:
        if imbalance_ratio is not None:
            raise ValueError("imbalance_ratio= applies to dataset=; arrays are used as given")
        if (X_val is None) != (y_val is None):
            raise ValueError("pass X_val and y_val together (or neither, to split X)")
        if X_val is None and (isinstance(val_size, bool) or not isinstance(val_size, numbers.Real)
                              or not 0.0 < val_size < 1.0):
            raise ValueError(f"val_size must be a number in (0, 1), got {val_size!r}")
    X = _float_features(X, "X")
    y = _binary_labels(y, X.shape[0], "y", "X")
    if X_val is not None:
        X_val = _float_features(X_val, "X_val")
        if X_val.shape[1] != X.shape[1]:
            raise ValueError(f"X_val has {X_val.shape[1]} features but X has {X.shape[1]}")
        y_val = _validation_labels(y_val, X_val.shape[0])
    else:
        from imbalance_gym.datasets import stratified_split  # same splitter as load_task

        rng = np.random.default_rng(0 if seed is None else seed)
        train_rows, val_rows = stratified_split(y, [float(val_size)], rng)
        X, X_val, y, y_val = X[train_rows], X[val_rows], y[train_rows], y[val_rows]
        if not (y == 1).any() or not (y == 0).any():
            raise ValueError("the validation split took every row of a class; pass X_val, y_val or a smaller val_size")

    n_min = int(np.count_nonzero(y == 1))
    n_maj = int(y.size - n_min)
    if n_min > n_maj:
        raise ValueError(
            f"label 1 must be the minority class, but the training data has {n_min} rows of "
            f"class 1 and {n_maj} of class 0; swap the labels (y = 1 - y)"
        )
    if n_min < 2:
        raise ValueError(
            f"the training data needs at least 2 minority (label 1) rows to interpolate "
            f"between, got N_min = {n_min}"
        )
    ir = float(imbalance_ratio) if imbalance_ratio is not None else n_maj / n_min
    G1 = config.g1_max(ir)
    G2 = int(config.G2)
    K = min(int(config.K), n_min - 1)
    bound = min(G1 * G2 * n_min, 10 * int(y.size))
    max_syn = bound if config.max_synthetic is None else int(config.max_synthetic)

    minority_index = np.flatnonzero(y == 1)
    X_min = np.ascontiguousarray(X[minority_index])
    neighbours = minority_neighbours(X_min, K)
    return AutoSMOTEProblem(
        X_train=X, y_train=y, X_val=X_val, y_val=y_val, minority_index=minority_index,
        X_min=X_min, neighbours=neighbours, imbalance_ratio=ir, G1=G1, G2=G2, K=K,
        max_synthetic=max_syn, classifier=config.classifier, metric=config.metric, task=task,
    )


def observation_space(p: AutoSMOTEProblem, n_actions: int, hierarchical: bool) -> spaces.Dict:
    """The Dict observation space of either env (see the env docstrings for the table)."""
    D, K = p.n_features, p.K
    entries = {}
    if hierarchical:
        entries["level"] = spaces.Discrete(3)
    entries["state"] = spaces.Box(-np.inf, np.inf, shape=(D + N_USAGE_BINS,), dtype=np.float32)
    entries["neighbour_features"] = spaces.Box(-np.inf, np.inf, shape=(K, N_USAGE_BINS + D), dtype=np.float32)
    entries["progress"] = spaces.Box(0.0, 1.0, shape=(4 if hierarchical else 3,), dtype=np.float32)
    entries["action_mask"] = spaces.MultiBinary(n_actions)
    return spaces.Dict(entries)


class EpisodeCore:
    """One episode's bookkeeping over an :class:`AutoSMOTEProblem` (no action decoding).

    State: ``g1``; the current instance ``i`` (position in ``minority_index``); ``left``,
    the low-level steps still owed to instance ``i`` (hierarchical env); ``n``, the
    number of recorded synthetic rows; ``g2`` per instance; the recorded rows as
    (instance, action) pairs; and the usage counts of every minority instance.
    The rows themselves are only built in :meth:`finish`, in one vectorised call.
    """

    def __init__(self, problem: AutoSMOTEProblem, n_actions: int, hierarchical: bool):
        p = problem
        self.p = p
        self.hierarchical = hierarchical
        self.n_actions = n_actions
        self.n_min, self.D, self.K = p.n_min, p.n_features, p.K
        self.G1, self.G2, self.cap = p.G1, p.G2, p.max_synthetic
        self.n_low = N_WEIGHTS * self.K
        self.per_instance = self.G1 * self.G2  # largest g = g1 * g2
        self.nbrs = p.neighbours
        self.nbrs_list = p.neighbours.tolist()
        most = min(self.cap, self.per_instance * self.n_min)  # rows an episode can make
        self.rec_inst = np.zeros(most, dtype=_INDEX)
        self.rec_act = np.zeros(most, dtype=_INDEX)
        self.counts = np.zeros(self.n_min, dtype=np.int64)
        self.g2 = np.zeros(self.n_min, dtype=np.int64)
        self.rows_of = np.zeros(self.n_min, dtype=np.int64)
        self._karange = np.arange(self.K)

        # Observation templates: per-instance features, a zero usage part filled per step.
        D = self.D
        self._state_tmpl = np.zeros((self.n_min, D + N_USAGE_BINS), dtype=np.float32)
        self._state_tmpl[:, :D] = p.X_min
        self._state0 = np.zeros(D + N_USAGE_BINS, dtype=np.float32)
        self._state0[:D] = p.X_min.mean(axis=0)
        self._nf_zero = np.zeros((self.K, N_USAGE_BINS + D), dtype=np.float32)
        self._nf_tmpl = self._nf_zero.copy()
        self._nf_for = -1  # instance whose offsets _nf_tmpl holds
        # Offsets x_nb - x_i of every instance's neighbours, precomputed when they fit in
        # _OFFSETS_MAX floats (typical AutoSMOTE data: well under 1 MB), else per instance.
        if self.n_min * self.K * D <= _OFFSETS_MAX:
            self._offsets = p.X_min[self.nbrs] - p.X_min[:, None, :]
        else:
            self._offsets = None
        self._mask_g1 = self._prefix_mask(self.G1 + 1)
        self._mask_low = self._prefix_mask(self.n_low if hierarchical else n_actions)
        self.start()

    def _prefix_mask(self, n_valid: int) -> np.ndarray:
        """An ``int8`` action mask with actions ``0..n_valid-1`` valid."""
        mask = np.zeros(self.n_actions, dtype=np.int8)
        mask[:n_valid] = 1
        return mask

    # ---- episode state -----------------------------------------------------------------
    def start(self) -> None:
        """Empty episode: no factor chosen, instance 0, nothing recorded."""
        self.g1 = 0
        self.i = 0
        self.left = 0
        self.n = 0
        self.counts[:] = 0
        self._nf_for = -1
        self.g2[:] = 0
        self.rows_of[:] = 0

    def g2_high(self, g1: int, n: int) -> int:
        """Largest valid ``g2`` when ``n`` rows exist: ``g1 * g2`` must fit the row bound."""
        return max_g2(g1, self.G2, self.cap - n)

    def add_row(self, i: int, a: int) -> None:
        """Record one (validated) low-level action of instance ``i`` and count its uses."""
        s = self.n
        self.n = s + 1
        self.rec_inst[s] = i
        self.rec_act[s] = a
        self.rows_of[i] += 1
        counts = self.counts
        counts[i] += 1
        slot = a // N_WEIGHTS
        nb = self.nbrs_list[i][slot]
        counts[nb] += 1
        if self._nf_for == i and counts[nb] % USAGE_BIN_WIDTH == 0:
            self._refresh_slot(slot, nb)  # the neighbour may have entered a new usage bin

    def add_rows(self, instances, actions: np.ndarray) -> None:
        """Record many (validated) low-level actions at once: :meth:`add_row` in numpy.

        Args:
            instances: instance of each action, ``int [M]`` in episode order, or one
                int when all ``M`` actions belong to the same instance.
            actions: the low-level actions, ``int [M]``.
        """
        m = len(actions)
        s = self.n
        self.n = s + m
        self.rec_inst[s : s + m] = instances
        self.rec_act[s : s + m] = actions
        if isinstance(instances, (int, np.integer)):
            chosen = self.nbrs[instances].take(actions // N_WEIGHTS)
            self.rows_of[instances] += m
            self.counts[instances] += m
            self.counts += np.bincount(chosen, minlength=self.n_min)
        else:
            chosen = self.nbrs.take(instances * self.K + actions // N_WEIGHTS)
            self.rows_of += np.bincount(instances, minlength=self.n_min)
            self.counts += usage_counts(self.n_min, instances, chosen)
        self._nf_for = -1  # rebuilt on the next observation

    # ---- observations ------------------------------------------------------------------
    def observe(self, level: int) -> dict:
        """Observation at ``level`` (0, 1, 2; the flat env uses 2) of the current state."""
        D = self.D
        if level == 0:
            state = self._state0.copy()
            state[D] = 1.0  # usage distribution: at level 0 every instance is unused (bin 0)
            nf = self._nf_zero.copy()
            mask = self._mask_g1.copy()
        else:
            i = self.i
            state = self._state_tmpl[i].copy()
            state[D + usage_bin(int(self.counts[i]))] = 1.0
            if self._nf_for != i:
                self._build_neighbour_features(i)
            nf = self._nf_tmpl.copy()
            if not self.hierarchical:
                mask = self._mask_low.copy()  # 5K pairs + "next instance": all valid
            elif level == 1:
                mask = self._prefix_mask(self.g2_high(self.g1, self.n) + 1)
            else:
                mask = self._mask_low.copy()
        progress_i = self.i / self.n_min
        if self.hierarchical:
            progress = np.array(
                [self.g1 / self.G1, progress_i, self.left / self.per_instance, self.n / self.cap],
                dtype=np.float32,
            )
            return {"level": level, "state": state, "neighbour_features": nf,
                    "progress": progress, "action_mask": mask}
        progress = np.array(
            [progress_i, self.rows_of[self.i] / self.per_instance if self.i < self.n_min else 0.0,
             self.n / self.cap],
            dtype=np.float32,
        )
        return {"state": state, "neighbour_features": nf, "progress": progress, "action_mask": mask}

    def _build_neighbour_features(self, i: int) -> None:
        """Fill the neighbour-feature template for instance ``i`` (once per instance).

        Within an instance's low-level steps only the chosen neighbour's usage changes,
        so :meth:`add_row` keeps the template current with :meth:`_refresh_slot`.
        """
        nb = self.nbrs[i]
        tmpl = self._nf_tmpl
        if self._offsets is not None:
            tmpl[:, N_USAGE_BINS:] = self._offsets[i]
        else:
            tmpl[:, N_USAGE_BINS:] = self.p.X_min[nb] - self.p.X_min[i]
        tmpl[:, :N_USAGE_BINS] = 0.0
        tmpl[self._karange, usage_bins(self.counts[nb])] = 1.0
        self._nf_for = i

    def _refresh_slot(self, slot: int, nb: int) -> None:
        """Rewrite the usage one-hot of neighbour slot ``slot`` (instance ``nb``)."""
        row = self._nf_tmpl[slot]
        row[:N_USAGE_BINS] = 0.0
        row[usage_bin(int(self.counts[nb]))] = 1.0

    # ---- reward --------------------------------------------------------------------------
    def finish(self, random_state: int) -> tuple[float, dict]:
        """Build every synthetic row in one call, fit the classifier, score validation.

        Returns:
            ``(reward, info)`` with the metric, per-instance row counts, provenance
            (training-row indices and weights), the rows, ``g1``/``g2`` and usage.
        """
        p = self.p
        n = self.n
        syn = generate(p.X_min, self.nbrs, self.rec_inst[:n], self.rec_act[:n])
        reward = _classifiers.evaluate(
            p.X_train, p.y_train, syn.X, p.X_val, p.y_val,
            classifier=p.classifier, metric=p.metric, random_state=random_state,
            check_input=False,  # validated at construction; the rows are made here
        )
        info = {
            "metric": reward,
            "counts": self.rows_of.copy(),
            "provenance": {
                "source": p.minority_index[syn.source],
                "neighbour": p.minority_index[syn.neighbour],
                "weight": syn.weight,
            },
            "synthetic": syn.X,
            "n_synthetic": n,
            "usage": self.counts.copy(),
            "random_state": random_state,
        }
        if self.hierarchical:
            info["g1"] = self.g1
            info["g2"] = self.g2.copy()
        return reward, info
