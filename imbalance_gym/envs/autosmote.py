"""AutoSMOTE's oversampling MDP as Gymnasium environments (Zha et al., CIKM'22, sec. 3).

:class:`AutoSMOTEEnv` (``imbalance_gym/AutoSMOTE-v0``) holds the three levels of
Algorithm 1 in one episode; :class:`AutoSMOTEFlatEnv` (``imbalance_gym/AutoSMOTE-Flat-v0``)
is the flat-policy ablation of sec. 4.4. Both are action decodings over the same
:class:`~imbalance_gym.envs._autosmote_core.EpisodeCore`, which does the bookkeeping,
builds observations, generates the synthetic rows in one vectorised call and computes
the reward with :func:`imbalance_gym.classifiers.evaluate`.
"""

from __future__ import annotations

import operator
from dataclasses import fields
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from imbalance_gym.envs._autosmote_core import (
    AutoSMOTEConfig,
    AutoSMOTEProblem,
    EpisodeCore,
    build_problem,
    observation_space,
)
from imbalance_gym.envs.smote_space import N_WEIGHTS, max_g2

__all__ = ["AutoSMOTEConfig", "AutoSMOTEEnv", "AutoSMOTEFlatEnv"]

_SEED_HIGH = 2**31 - 1  # classifier seeds are drawn in [0, 2**31 - 1)
_DEFAULTS = {f.name: f.default for f in fields(AutoSMOTEConfig)}  # the constructor's defaults

_DOC_ARGS = """
    ## Arguments
    Keyword only; ``gym.make(id, **kwargs)`` passes them through.

    - ``dataset``: a tabular task name (:func:`imbalance_gym.datasets.list_datasets`),
      loaded with AutoSMOTE's protocol (sec. 4.1): stratified 60/20/20 train/val/test,
      each split made imbalanced at ``imbalance_ratio`` (e.g. 20, 50, 100; None keeps
      the natural ratio). The task is ``env.task`` (its test split is for the final
      evaluation, the env never touches it). ``data_home``: where the files are.
    - ``X``, ``y``: training features ``[N, D]`` (finite, converted to float32) and binary
      labels with **1 = minority**. ``X_val``, ``y_val``: validation data for the
      reward; without them a stratified ``val_size`` (default 0.25, the 60/20 proportion)
      of ``X`` is held out, seeded by ``seed``. Multi-class labels are an error (build
      one env per class, one-vs-rest). Label 1 must be the rarer class of the training
      data (ties allowed), else an error says to swap the labels.
    - ``G1`` (default ``max(1, round(4 IR / G2))``), ``G2`` (10), ``K`` (30; capped at
      ``N_min - 1``), ``max_synthetic`` (bound on rows per episode; default
      ``min(G1 G2 N_min, 10 N_train)``), ``classifier`` (``"svm"`` or any name of
      :data:`imbalance_gym.classifiers.CLASSIFIERS`, or a scikit-learn estimator,
      cloned per episode), ``metric`` (``"macro_f1"``, ``"mcc"``, ``"g_mean"``, ``"f1"``
      or a callable). IR is ``imbalance_ratio`` for a named task, else ``N_maj / N_min``
      of the training data. ``config=``: an :class:`AutoSMOTEConfig` instead of these.
    - ``seed``: seeds the data split and the first ``reset()`` called without a seed.
"""


def _same_setting(value: Any, default: Any) -> bool:
    """Whether a keyword was left at its default (estimators compare by identity)."""
    if isinstance(value, (str, int, type(None))) and isinstance(default, (str, int, type(None))):
        return value == default and type(value) is type(default)
    return value is default


def _as_action(action: Any) -> int:
    """An integer action, or a TypeError."""
    if action.__class__ is int:
        return action
    try:
        return operator.index(action)
    except TypeError:
        raise TypeError(f"action must be an integer, got {action!r}") from None


class _AutoSMOTEBase(gym.Env):
    """Shared construction, seeding and reward of both AutoSMOTE envs."""

    metadata = {"render_modes": []}
    _hierarchical: bool

    def __init__(self, *, X=None, y=None, X_val=None, y_val=None, dataset: str | None = None,
                 imbalance_ratio: float | None = None, data_home=None, val_size: float = 0.25,
                 G1: int | None = None, G2: int = 10, K: int = 30, max_synthetic: int | None = None,
                 classifier: Any = "svm", metric: Any = "macro_f1",
                 config: AutoSMOTEConfig | None = None, seed: int | None = None,
                 render_mode: str | None = None):
        if render_mode is not None:
            raise ValueError(f"{type(self).__name__} has no render modes, got render_mode={render_mode!r}")
        given = dict(G1=G1, G2=G2, K=K, max_synthetic=max_synthetic, classifier=classifier, metric=metric)
        if config is None:
            config = AutoSMOTEConfig(**given)
        elif not isinstance(config, AutoSMOTEConfig):
            raise TypeError(f"config must be an AutoSMOTEConfig, got {type(config).__name__}")
        else:
            changed = sorted(k for k, v in given.items() if not _same_setting(v, _DEFAULTS[k]))
            if changed:
                raise ValueError(f"pass either config= or the settings {changed}, not both")
        p = build_problem(X, y, X_val=X_val, y_val=y_val, dataset=dataset,
                          imbalance_ratio=imbalance_ratio, data_home=data_home,
                          val_size=val_size, seed=seed, config=config)
        self.config = config
        self.problem: AutoSMOTEProblem = p
        n_actions = self._n_actions(p)
        self.action_space = spaces.Discrete(n_actions)
        self.observation_space = observation_space(p, n_actions, self._hierarchical)
        self.render_mode = None
        self._core = EpisodeCore(p, n_actions, self._hierarchical)
        self._default_seed = seed
        self._seeded = False
        self._active = False
        self._random_state = 0

    @staticmethod
    def _n_actions(p: AutoSMOTEProblem) -> int:
        raise NotImplementedError

    # ---- read-only views for agents and samplers --------------------------------------
    @property
    def G1(self) -> int:
        """Largest cross-instance factor."""
        return self.problem.G1

    @property
    def G2(self) -> int:
        """Largest instance-specific factor."""
        return self.problem.G2

    @property
    def K(self) -> int:
        """Neighbours per instance (after capping at ``N_min - 1``)."""
        return self.problem.K

    @property
    def max_synthetic(self) -> int:
        """Bound on synthetic rows per episode."""
        return self.problem.max_synthetic

    @property
    def n_minority(self) -> int:
        """``N_min``: minority instances, i.e. level-1 steps per episode."""
        return self.problem.n_min

    @property
    def minority_index(self) -> np.ndarray:
        """Training row of each minority instance, in episode order, ``[N_min]``."""
        return self.problem.minority_index

    @property
    def neighbours(self) -> np.ndarray:
        """Neighbour table, ``[N_min, K]``, indices into :attr:`minority_index`."""
        return self.problem.neighbours

    @property
    def X_train(self) -> np.ndarray:
        """Training features (float32) the classifier is fit on, with the synthetic rows."""
        return self.problem.X_train

    @property
    def y_train(self) -> np.ndarray:
        """Training labels (1 = minority)."""
        return self.problem.y_train

    @property
    def X_val(self) -> np.ndarray:
        """Validation features the reward is measured on."""
        return self.problem.X_val

    @property
    def y_val(self) -> np.ndarray:
        """Validation labels."""
        return self.problem.y_val

    @property
    def task(self):
        """The named task (with its test split) when built from ``dataset=``, else None."""
        return self.problem.task

    # ---- Gymnasium API -------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode; ``seed`` reseeds ``np_random`` (the classifier's seed comes from it).

        Returns:
            ``(observation, {})``: the first observation (level 0 for the hierarchical env,
            instance 0 for the flat env).
        """
        if seed is None and not self._seeded:
            seed = self._default_seed
        super().reset(seed=seed)
        self._seeded = True
        # Drawn at reset, so the same seed gives the same classifier fit and reward.
        self._random_state = int(self.np_random.integers(0, _SEED_HIGH))
        self._core.start()
        self._begin()
        self._active = True
        return self._observe(), {}

    def action_masks(self) -> np.ndarray:
        """Valid actions now, ``bool [n_actions]`` (sb3-contrib's MaskablePPO calls this)."""
        return self._observe()["action_mask"].astype(bool)

    def _finish(self) -> tuple[float, dict]:
        """End the episode: the reward and the final info."""
        self._active = False
        reward, info = self._core.finish(self._random_state)
        self._core.start()  # the final observation is a fresh episode's first one
        self._begin()
        return reward, info

    def _check_active(self) -> None:
        if not self._active:
            raise ResetNeeded(f"{type(self).__name__}: call reset() before step() and after an episode ends")

    def _begin(self) -> None:
        raise NotImplementedError

    def _observe(self) -> dict:
        raise NotImplementedError


class AutoSMOTEEnv(_AutoSMOTEBase):
    __doc__ = """AutoSMOTE's three-level oversampling MDP in one episode (Zha et al., sec. 3.2).

    ## Description
    An episode searches one set of synthetic minority rows in the SMOTE space
    (Algorithm 1). Level 0 (cross-instance) picks ``g1``; then for each minority
    instance ``i`` in training-row order, level 1 (instance-specific) picks ``g2_i`` and
    level 2 (low-level) takes ``g1 * g2_i`` steps, each choosing one of the instance's
    ``K`` nearest minority neighbours and a weight, i.e. one synthetic row
    ``x_i + w (x_nb - x_i)``. The rows are built in one vectorised call at the end, the
    base classifier is fit on train + synthetic rows, and its validation score is the
    reward. ``info["level"]`` says which level acted, so an agent can split the
    trajectory into the three policies' episodes.

    ## Action Space
    ``Discrete(max(G1 + 1, G2 + 1, 5 K))``; which actions are valid depends on the level
    (``obs["action_mask"]``, :meth:`action_masks`):

    | level | action | valid |
    |-------|--------|-------|
    | 0 | ``g1`` | ``0..G1`` |
    | 1 | ``g2_i`` | ``0..G2``, and ``g1 * g2_i`` must fit the row bound (below) |
    | 2 | ``a = slot * 5 + w_idx`` | ``0..5K-1``: neighbour ``neighbours[i, slot]``, weight ``(0, .25, .5, .75, 1)[w_idx]`` |

    An invalid action raises ``ValueError`` (never a silent clip). Masked sampling gives
    a valid random action: ``env.action_space.sample(mask=obs["action_mask"])``.

    ## Observation Space
    ``Dict`` (D features, K neighbours):

    | key | space | level 0 | levels 1 and 2 |
    |-----|-------|---------|----------------|
    | ``level`` | ``Discrete(3)`` | 0 | 1 or 2 |
    | ``state`` | ``Box(D + 10)`` float32 | minority centroid + fraction of instances per usage bin (``[1, 0, ..]``) | ``x_i`` + usage one-hot of ``i`` |
    | ``neighbour_features`` | ``Box(K, 10 + D)`` float32 | zeros | per neighbour slot: its usage one-hot, then ``x_nb - x_i`` |
    | ``progress`` | ``Box(0, 1, (4,))`` float32 | ``[g1/G1, i/N_min, left/(G1 G2), n/max_synthetic]`` | same |
    | ``action_mask`` | ``MultiBinary(n_actions)`` int8 | valid ``g1`` | valid ``g2`` / low-level actions |

    Usage = how often an instance was a start point or a chosen neighbour so far; bins of
    10 uses, the last open-ended (sec. 3.2). ``left`` = low-level steps still owed to the
    current instance, ``n`` = rows so far. :func:`~imbalance_gym.envs.smote_space.action_features`
    turns ``neighbour_features`` into per-action features ``[5K, 10 + D + 5]`` for a
    policy that scores state-action pairs (sec. 3.3).

    ## Rewards
    0 on every step but the last; on the last,
    ``evaluate(X_train, y_train, X_syn, X_val, y_val, classifier, metric, random_state)``
    (:func:`imbalance_gym.classifiers.evaluate`; Algorithm 2 line 5), the same value the
    paper assigns to the final step of all three levels' episodes. The classifier's
    ``random_state`` is drawn from ``np_random`` at ``reset``.

    ## Starting State
    Level 0, nothing generated, every usage count 0.

    ## Episode End
    - Termination: after the last instance's level-1 step (if its ``g`` is 0) or its last
      low-level step. Length ``1 + N_min + g1 * sum_i g2_i``; with ``g1 = 0`` every
      ``g2`` is still asked (and ignored), ``1 + N_min`` steps.
    - Truncation: never (episodes are finite by construction).
    - The final observation is a level-0 observation. The final ``info`` adds
      ``metric`` (the reward), ``counts`` (rows per instance ``[N_min]``),
      ``provenance`` (``source``/``neighbour`` training-row indices and ``weight`` per
      row), ``synthetic`` (the rows ``[M, D]``), ``n_synthetic``, ``usage``, ``g1``,
      ``g2`` (``[N_min]``) and ``random_state``. Every step's info has ``level`` (the
      level that acted) and ``instance`` (its instance position, -1 at level 0).

    ## Row bound
    ``max_synthetic`` caps rows per episode to protect memory. When ``g1 * g2`` would
    exceed the rows left, that ``g2`` is masked (invalid): the level-1 mask allows only
    ``0..(max_synthetic - n) // g1``, so every action keeps its exact meaning and the
    later instances may be held to ``g2 = 0``. The default never binds for the
    default ``G1``.

    ## Batched stepping
    :meth:`step_batch` applies many consecutive actions in one call (e.g. all of an
    instance's low-level actions, or a whole episode), exactly like calling :meth:`step`
    on each in turn but validated as a whole first, with numpy updates in place of
    per-step observations.
    {args}
    ## Version History
    - v0: initial version.
    """.format(args=_DOC_ARGS)

    _hierarchical = True

    @staticmethod
    def _n_actions(p: AutoSMOTEProblem) -> int:
        return max(p.G1 + 1, p.G2 + 1, N_WEIGHTS * p.K)

    def _begin(self) -> None:
        self._level = 0

    def _observe(self) -> dict:
        return self._core.observe(self._level if self._active else 0)

    # ---- the level machine ---------------------------------------------------------------
    def _range_error(self, level: int, value: int, hi: int, pos: int, total: int,
                     g1: int = 0, n: int = 0) -> ValueError:
        """The error for an invalid action (``g1``/``n``: the state it was taken in)."""
        core = self._core
        where = f"actions[{pos}] = " if total > 1 else "action "
        what = {0: "g1", 1: "g2", 2: "a low-level action"}[level]
        msg = f"{where}{value} is not a valid {what} at level {level}: allowed 0..{hi}"
        if level == 1 and hi < core.G2:
            msg += f" (g1={g1} and {core.cap - n} of max_synthetic={core.cap} rows left; G2={core.G2})"
        return ValueError(msg)

    def _plan(self, acts: list, arr: np.ndarray | None):
        """Walk the level machine over ``acts`` and validate them, changing nothing.

        ``acts`` are Python ints; ``arr`` is the same batch as an ``int64`` array (None
        for a single action). Returns ``(heads, segments, low, end_state, instance)``:
        ``heads`` lists ``(position, level, instance, value)`` of the level-0/1 actions,
        ``segments`` lists ``(instance, position, count)`` runs of low-level actions
        (each run is contiguous), ``low`` holds the low-level actions in order (array;
        None for a single action), ``end_state`` is ``(level, i, left, ended)`` after
        the last action and ``instance`` the instance position of the last action (-1
        for level 0).
        """
        core = self._core
        level, g1, i, left, n = self._level, core.g1, core.i, core.left, core.n
        n_min, G1, G2, cap = core.n_min, core.G1, core.G2, core.cap
        heads: list = []
        segments: list = []
        pos, total = 0, len(acts)
        ended = False
        instance = -1
        while pos < total:
            if ended:
                self._check_low(acts, arr, segments)  # an earlier bad action is reported first
                raise ValueError(
                    f"actions[{pos}:] come after the episode's last step ({total - pos} extra action(s))"
                )
            if level == 2:
                take = min(left, total - pos)
                segments.append((i, pos, take))
                instance = i
                n += take
                left -= take
                pos += take
                if left == 0:
                    level = 1
                    i += 1
                    ended = i == n_min
                continue
            a = acts[pos]
            hi = G1 if level == 0 else max_g2(g1, G2, cap - n)
            if not 0 <= a <= hi:
                self._check_low(acts, arr, segments)
                raise self._range_error(level, a, hi, pos, total, g1, n)
            if level == 0:
                heads.append((pos, 0, -1, a))
                instance = -1
                g1, level = a, 1
            else:
                heads.append((pos, 1, i, a))
                instance = i
                left = g1 * a
                if left:
                    level = 2
                else:
                    i += 1
                    ended = i == n_min
            pos += 1
        low = self._check_low(acts, arr, segments) if segments else None
        return heads, segments, low, (level, i, left, ended), instance

    def _check_low(self, acts: list, arr: np.ndarray | None, segments: list):
        """Raise for the first low-level action in ``segments`` outside ``0..5K-1``.

        Returns the low-level actions in order (None for a single action).
        """
        n_low = self._core.n_low
        if arr is None or not segments:
            if segments and not 0 <= acts[0] < n_low:
                raise self._range_error(2, acts[0], n_low - 1, 0, 1)
            return None
        if len(segments) == 1:
            _, pos, take = segments[0]
            low = arr[pos : pos + take]
        else:
            low = np.concatenate([arr[pos : pos + take] for _, pos, take in segments])
        if low.size and (low.min() < 0 or low.max() >= n_low):
            for _, pos, take in segments:
                bad = np.flatnonzero((arr[pos : pos + take] < 0) | (arr[pos : pos + take] >= n_low))
                if bad.size:
                    k = pos + int(bad[0])
                    raise self._range_error(2, int(arr[k]), n_low - 1, k, len(acts))
        return low

    def _commit(self, heads: list, segments: list, low, end_state: tuple, acts: list) -> None:
        """Apply a validated plan to the episode core."""
        core = self._core
        for _, lvl, i, a in heads:
            if lvl == 0:
                core.g1 = a
            else:
                core.g2[i] = a
        if low is None:
            if segments:
                core.add_row(segments[0][0], acts[0])
        elif len(segments) == 1:
            core.add_rows(segments[0][0], low)
        else:
            core.add_rows(np.repeat([s[0] for s in segments], [s[2] for s in segments]), low)
        level, i, left, _ = end_state
        self._level = level
        core.i = min(i, core.n_min - 1)
        core.left = left

    def _result(self, ended: bool, info: dict):
        """The step tuple after the level machine moved."""
        if ended:
            reward, final = self._finish()
            info.update(final)
            return self._core.observe(0), reward, True, False, info
        return self._core.observe(self._level), 0.0, False, False, info

    def step(self, action):
        """Take one action at the current level (see the class docstring).

        Raises:
            ValueError: the action is not valid at this level (``obs["action_mask"]``).
            TypeError: not an integer. ``gymnasium.error.ResetNeeded``: no episode running.
        """
        self._check_active()
        acts = [_as_action(action)]
        level = self._level
        heads, segments, low, end_state, instance = self._plan(acts, None)
        self._commit(heads, segments, low, end_state, acts)
        return self._result(end_state[3], {"level": level, "instance": instance})

    def step_batch(self, actions):
        """Apply consecutive actions in one call, exactly like ``step`` on each in turn.

        The whole batch is validated before anything changes: the first invalid action
        (or one past the end of the episode) raises ``ValueError`` naming its position
        and leaves the environment as it was. Intermediate observations are not built;
        the usage counts they would show follow from the actions
        (:func:`~imbalance_gym.envs.smote_space.usage_counts`). Cost: a few Python
        operations per level-0/1 action and numpy calls for all low-level actions at once.

        Args:
            actions: ints, shape ``[T]``, ``T >= 1``: any mix of levels in episode order
                (e.g. the ``g`` low-level actions of the current instance, or a whole
                episode ``[g1, g2_0, a_0_1, .., g2_1, ..]``).

        Returns:
            ``(obs, reward, terminated, truncated, info)`` of the last action, as
            :meth:`step` returns them; ``info["levels"]`` (``int8 [T]``) gives the level
            of every action, ``info["level"]`` / ``info["instance"]`` those of the last.
        """
        self._check_active()
        arr = np.asarray(actions)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"actions must be a non-empty 1-D sequence of ints, got shape {arr.shape}")
        if arr.dtype.kind not in "iu":
            raise TypeError(f"actions must be integers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
        acts = arr.tolist()
        heads, segments, low, end_state, instance = self._plan(acts, arr)
        self._commit(heads, segments, low, end_state, acts)
        levels = np.full(arr.size, 2, dtype=np.int8)
        for pos, lvl, _, _ in heads:
            levels[pos] = lvl
        return self._result(end_state[3], {"level": int(levels[-1]), "instance": instance, "levels": levels})


class AutoSMOTEFlatEnv(_AutoSMOTEBase):
    __doc__ = """AutoSMOTE's flat-policy ablation (Zha et al., sec. 4.4) over the same core.

    ## Description
    One policy does everything: for the current minority instance each step either
    generates one synthetic row (a neighbour and a weight) or moves on to the next
    instance. Same search space, rows and reward as :class:`AutoSMOTEEnv`, without the
    high-level factors.

    ## Action Space
    ``Discrete(5 K + 1)``: ``a < 5K`` is ``slot * 5 + w_idx`` as in the low level of
    :class:`AutoSMOTEEnv`; ``a = 5K`` means "next instance". Every action is always
    valid (``action_mask`` is all ones), so unmasked learners such as PPO work.

    ## Observation Space
    ``Dict`` with ``state``, ``neighbour_features`` and ``action_mask`` exactly as at
    level 2 of :class:`AutoSMOTEEnv`, and ``progress`` ``Box(0, 1, (3,))`` =
    ``[i / N_min, rows of instance i / (G1 G2), n / max_synthetic]``.

    ## Rewards
    As :class:`AutoSMOTEEnv`: 0, then the validation metric on the final step.

    ## Starting State
    Instance 0, nothing generated.

    ## Episode End
    - Per-instance cap: an instance gets at most ``G1 * G2`` rows (the largest ``g`` of
      the hierarchical env, so both search the same space); reaching it moves on to
      the next instance automatically, in the same step.
    - Termination: "next instance" on the last instance, the last instance reaching its
      cap, or the episode reaching ``max_synthetic`` rows (remaining instances get no
      rows). At most ``N_min + min(G1 G2 N_min, max_synthetic)`` steps.
    - Truncation: never.
    - The final observation is that of instance 0 in a fresh episode; the final ``info``
      carries ``metric``, ``counts``, ``provenance``, ``synthetic``, ``n_synthetic``,
      ``usage`` and ``random_state`` as in :class:`AutoSMOTEEnv`. Every step's info has
      ``level`` (always 2: a row or a move) and ``instance``.
    {args}
    ## Version History
    - v0: initial version.
    """.format(args=_DOC_ARGS)

    _hierarchical = False

    @staticmethod
    def _n_actions(p: AutoSMOTEProblem) -> int:
        return N_WEIGHTS * p.K + 1

    def _begin(self) -> None:
        pass

    def _observe(self) -> dict:
        return self._core.observe(2)

    def step(self, action):
        """Generate one row for the current instance (``a < 5K``) or move on (``a = 5K``).

        Raises:
            ValueError: outside ``0..5K``. TypeError: not an integer.
            ``gymnasium.error.ResetNeeded``: no episode running.
        """
        self._check_active()
        a = _as_action(action)
        core = self._core
        n_next = core.n_low
        if not 0 <= a <= n_next:
            raise ValueError(f"action {a} is outside Discrete({n_next + 1}): expected 0..{n_next}")
        i = core.i
        info = {"level": 2, "instance": i}
        if a == n_next:
            ended = i + 1 == core.n_min
        else:
            core.add_row(i, a)
            # the row bound ends the episode; the per-instance cap moves on to the next
            ended = core.n >= core.cap or (core.rows_of[i] >= core.per_instance and i + 1 == core.n_min)
            if not ended and core.rows_of[i] < core.per_instance:
                return core.observe(2), 0.0, False, False, info
        if ended:
            reward, final = self._finish()
            info.update(final)
            return core.observe(2), reward, True, False, info
        core.i = i + 1
        return core.observe(2), 0.0, False, False, info
