"""DQNimb: deep Q-learning on the imbalanced classification MDP (Lin et al., sec. III-C).

Reads top to bottom: pure helpers of the paper's equations (:func:`td_target`, eq. 9;
:func:`linear_epsilon`, sec. IV-D; :func:`q_loss`, eq. 8), the env adapter, then the
:class:`DQNImb` agent whose :meth:`DQNImb.learn` holds the visible loop of Algorithm 1:

    for each step:  act epsilon-greedily on every lane (one forward pass)
                    step the vector env, store (s, a, r, s', terminated, truncated)
                    do one gradient step per collected transition (replay ratio 1)
                    copy the Q-network into the target network every N updates
                    every eval_freq steps: score the greedy policy on validation data

Collection is batched over the lanes of an :class:`~imbalance_gym.envs.ICMDPVectorEnv`
(same-step autoreset: a finished lane's last observation comes in
``info["final_obs"]`` and is the s' stored for it). The Q-network is the classifier
without its softmax (sec. III-C3); the greedy action is the predicted class.
"""

from __future__ import annotations

import copy
import io
import json
import math
import numbers
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from agents.dqn.config import DQNImbConfig
from agents.dqn.replay import ReplayMemory
from agents.networks import make_adam, make_network, network_kind, resolve_device
from imbalance_gym import metrics as M
from imbalance_gym.envs import ICMDPEnv, ICMDPVectorEnv

__all__ = ["DQNImb", "as_vector_env", "linear_epsilon", "q_loss", "td_target"]

CHECKPOINT_FORMAT = "imbalance_gym.dqnimb"
CHECKPOINT_VERSION = 1


# --------------------------------------------------------------------------------------
# Pure helpers (the paper's equations)
# --------------------------------------------------------------------------------------
def td_target(reward: torch.Tensor, next_q_target: torch.Tensor, terminated: torch.Tensor,
              gamma: float) -> torch.Tensor:
    """Target estimate y of the Q-function, DQNimb eq. (9).

    ``y = r`` for a terminal transition, else ``y = r + gamma * max_a' Q(s', a'; theta^-)``
    with ``theta^-`` the target network. Only *termination* (a misclassified minority
    sample in training) stops the bootstrap: a *truncated* transition (the data ran out)
    is not terminal, so its target bootstraps from s'.

    Args:
        reward: ``r``, shape ``[...]`` (any leading shape, e.g. ``[B]`` or ``[K, B]``).
        next_q_target: ``Q(s', .; theta^-)``, shape ``[..., A]``.
        terminated: bool, shape ``[...]``.
        gamma: discount factor in [0, 1].

    Returns:
        ``y`` with the shape and dtype of ``reward``.
    """
    bootstrap = next_q_target.max(dim=-1).values.to(reward.dtype)
    return torch.where(terminated, reward, reward + gamma * bootstrap)


def linear_epsilon(step: int, decay_steps: float, start: float = 1.0, end: float = 0.01) -> float:
    """Exploration rate decayed linearly from ``start`` to ``end`` (DQNimb sec. IV-D).

    ``eps(t) = start + (end - start) * min(t / decay_steps, 1)``: ``start`` at step 0,
    ``end`` at and after ``decay_steps``.

    Args:
        step: transitions collected so far (>= 0).
        decay_steps: length of the decay (> 0).
        start: initial rate (paper: 1.0).
        end: final rate (paper: 0.01).
    """
    if decay_steps <= 0:
        raise ValueError(f"decay_steps must be > 0, got {decay_steps!r}")
    frac = min(max(step, 0) / decay_steps, 1.0)
    return start + (end - start) * frac


def q_loss(q_taken: torch.Tensor, target: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """Mean TD loss over a mini-batch: eq. (8) ``(y - Q(s, a))^2`` or the Huber loss.

    Args:
        q_taken: ``Q(s, a; theta)`` of the stored actions, shape ``[B]``.
        target: ``y`` of :func:`td_target`, shape ``[B]`` (no gradient).
        kind: ``"mse"`` (eq. 8, averaged instead of summed: the sum only rescales the
            learning rate by ``B``) or ``"huber"``.
    """
    if kind == "mse":
        return F.mse_loss(q_taken, target)
    if kind == "huber":
        return F.smooth_l1_loss(q_taken, target)
    raise ValueError(f"kind must be 'mse' or 'huber', got {kind!r}")


# --------------------------------------------------------------------------------------
# Env adapter
# --------------------------------------------------------------------------------------
def as_vector_env(env: Any, num_envs: int) -> gym.vector.VectorEnv:
    """The vector env the agent collects from.

    * a Gymnasium ``VectorEnv`` (e.g. ``gym.make_vec("imbalance_gym/ICMDP-v0", ...)``) is
      used as is; it must autoreset in the same step (``info["final_obs"]``);
    * an :class:`ICMDPEnv` (possibly wrapped, e.g. by ``gym.make``) becomes an
      :class:`ICMDPVectorEnv` with ``num_envs`` lanes over the same data, reward weights,
      terminal classes and mode (wrappers are not carried over).

    Raises:
        TypeError: anything else.
        ValueError: a vector env with next-step autoreset or a non-Discrete action space.
    """
    if isinstance(env, gym.vector.VectorEnv):
        mode = (getattr(env, "metadata", None) or {}).get("autoreset_mode")
        if mode not in (AutoresetMode.SAME_STEP, "same_step"):
            raise ValueError(
                f"env must autoreset in the same step (autoreset_mode=SAME_STEP, so that "
                f"info['final_obs'] holds s' of finished lanes), got autoreset_mode={mode!r}"
            )
        vec = env
    elif isinstance(env, gym.Env) and isinstance(env.unwrapped, ICMDPEnv):
        if env is not env.unwrapped:
            warnings.warn("DQNImb steps the ICMDP data of this env in a native vector env; "
                          "its wrappers are not carried over", UserWarning, stacklevel=3)
        p = env.unwrapped.problem
        extra = {}
        if p.kind == "tokens":
            extra["vocab_size"] = int(np.max(p.observation_space.high)) + 1
        vec = ICMDPVectorEnv(num_envs, X=p.X, y=p.y, class_weights=p.class_weights,
                             terminal_classes=p.terminal_classes,
                             mode="train" if p.training else "eval", observation=p.kind, **extra)
    else:
        raise TypeError(
            "env must be an ICMDPVectorEnv / gym.make_vec('imbalance_gym/ICMDP-v0', ...), another "
            "Gymnasium VectorEnv with same-step autoreset, or an ICMDPEnv; "
            f"got {type(env).__name__}"
        )
    if not isinstance(vec.single_action_space, spaces.Discrete):
        raise ValueError(f"DQNImb needs a Discrete action space, got {vec.single_action_space}")
    return vec


def _space_to_json(space: spaces.Box) -> dict[str, Any]:
    """Shape, dtype and (uniform) bounds of a Box, JSON-safe (None = infinite)."""
    def bound(x):
        v = float(x)
        return None if math.isinf(v) else v
    return {"shape": list(space.shape), "dtype": np.dtype(space.dtype).name,
            "low": bound(np.min(space.low)), "high": bound(np.max(space.high))}


def _space_from_json(d: dict[str, Any]) -> spaces.Box:
    """Inverse of :func:`_space_to_json`."""
    dtype = np.dtype(d["dtype"])
    low = -np.inf if d["low"] is None else d["low"]
    high = np.inf if d["high"] is None else d["high"]
    shape = tuple(d["shape"])
    return spaces.Box(low=np.full(shape, low, dtype=dtype), high=np.full(shape, high, dtype=dtype), dtype=dtype)


def _state_to_bytes(state: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


@torch.no_grad()
def _clip_grad_norm(params: list[torch.Tensor], max_norm: float) -> None:
    """Scale the gradients so that their global L2 norm is at most ``max_norm``.

    The arithmetic of ``torch.nn.utils.clip_grad_norm_`` (norm of the per-tensor norms,
    coefficient ``max_norm / (norm + 1e-6)`` clamped at 1) in three foreach calls, for a
    fixed list of parameters that all have gradients.
    """
    grads = [p.grad for p in params]
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, torch.clamp(max_norm / (total + 1e-6), max=1.0))


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an int in [0, 2**63), got {seed!r}")
    return int(seed)


# --------------------------------------------------------------------------------------
# Agent
# --------------------------------------------------------------------------------------
class DQNImb:
    """DQNimb agent: a DQN whose greedy policy is an imbalanced-data classifier.

    Args:
        env: an ICMDP vector env (``gym.make_vec("imbalance_gym/ICMDP-v0", ...)``) or an
            ``ICMDPEnv`` (wrapped into ``config.num_envs`` lanes), see :func:`as_vector_env`.
            The agent never builds an env from a dataset name.
        config: hyperparameters (:class:`DQNImbConfig`; paper defaults).
        seed: seeds the network initialisation, exploration, replay sampling and the
            env's first reset. Same seed, same actions and weights.
        eval_data: ``(X_val, y_val)`` for model selection: every ``config.eval_freq``
            transitions the greedy policy is scored on it and the best weights by
            ``config.selection_metric`` are kept (and loaded at the end of ``learn``).

    Attributes:
        num_timesteps: transitions collected so far (all lanes).
        num_updates: gradient steps taken.
        history: one dict per validation pass: ``step``, ``updates``, ``epsilon``,
            ``loss``, ``elapsed_s`` and the validation metrics of :meth:`evaluate`.
        best_score, best_step: the selected checkpoint's validation score and step.

    Raises:
        TypeError, ValueError: bad env, config, seed or eval data (before any work).
    """

    def __init__(self, env: Any, config: DQNImbConfig | None = None, seed: int = 0,
                 eval_data: tuple[Any, Any] | None = None):
        config = DQNImbConfig() if config is None else config
        if not isinstance(config, DQNImbConfig):
            raise TypeError(f"config must be a DQNImbConfig, got {type(config).__name__}")
        vec = as_vector_env(env, config.num_envs)
        self._setup(vec.single_observation_space, int(vec.single_action_space.n), config, seed,
                    config.device)
        self.env: gym.vector.VectorEnv | None = vec
        self.eval_data = None if eval_data is None else self._check_eval_data(eval_data)

    # ---- construction -----------------------------------------------------------------
    def _setup(self, observation_space: spaces.Space, n_classes: int, config: DQNImbConfig,
               seed: int, device: str | torch.device) -> None:
        """Networks, optimizer and generators (shared by ``__init__`` and ``load``)."""
        self.seed = _check_seed(seed)
        self.config = config
        self.observation_space = observation_space
        self.n_classes = n_classes
        if n_classes < 2:
            raise ValueError(f"DQNImb needs >= 2 actions (classes), got {n_classes}")
        if config.selection_metric in ("f_measure",) and n_classes != 2:
            raise ValueError(
                f"DQNImbConfig.selection_metric={config.selection_metric!r} needs binary data; this "
                f"env has {n_classes} classes (use 'g_mean', 'macro_f1' or 'mcc')"
            )
        fit = network_kind(observation_space)  # raises for spaces no body handles
        self.network_kind = fit if config.network == "auto" else config.network
        self.device = resolve_device(device)
        # Initialise on the CPU from the seed without touching torch's global RNG, then
        # move: the same seed gives the same initial weights on every device.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            q_net = make_network(observation_space, n_classes, config.network, config.hidden_sizes)
        self.q_net = q_net.to(self.device)
        self.target_net = copy.deepcopy(self.q_net).requires_grad_(False)
        self._params = list(self.q_net.parameters())
        self.optimizer = make_adam(self._params, config.learning_rate)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(self.seed)
        # Updates that share one target forward pass (see _train). On a CPU one CNN pass
        # over 16 x 64 images was measured 1.75x slower than 16 passes of 64 (its
        # activations no longer fit in cache), while MLP passes got 1.2-2.4x faster batched.
        self._target_group = 1 if (self.network_kind == "cnn" and self.device.type == "cpu") else 1 << 30
        self.replay: ReplayMemory | None = None
        self.num_timesteps = 0
        self.num_updates = 0
        self.history: list[dict[str, Any]] = []
        self.best_score: tuple[float, float] | None = None
        self.best_step: int | None = None
        self._best_state: dict[str, torch.Tensor] | None = None
        self._obs: np.ndarray | None = None
        self._last_loss: torch.Tensor | None = None
        self._total_target = 0

    def _check_eval_data(self, eval_data) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(eval_data, (tuple, list)) or len(eval_data) != 2:
            raise TypeError(f"eval_data must be a pair (X_val, y_val), got {type(eval_data).__name__}")
        X = self._as_obs_batch(eval_data[0], "eval_data[0]")
        y = np.asarray(eval_data[1])
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"eval_data[1] must hold one label per row of eval_data[0] ({X.shape[0]}), "
                             f"got shape {y.shape}")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= self.n_classes:
            raise ValueError(f"eval_data[1] must hold integer labels in 0..{self.n_classes - 1}")
        return X, y.astype(np.int64)

    def _as_obs_batch(self, obs: Any, name: str = "obs") -> np.ndarray:
        """``obs`` as a numpy batch ``[B, *obs_shape]`` of the observation space's dtype."""
        if isinstance(obs, torch.Tensor):
            obs = obs.detach().cpu().numpy()
        if hasattr(obs, "to_numpy") and not isinstance(obs, np.ndarray):
            obs = obs.to_numpy()
        arr = np.asarray(obs)
        shape = tuple(self.observation_space.shape)
        if arr.shape[1:] == shape:
            pass
        elif arr.shape == shape:
            arr = arr[None]
        elif len(shape) == 3 and shape[0] == 1 and arr.shape[1:] == shape[1:]:
            arr = arr[:, None]  # [N, H, W] grey images
        else:
            raise ValueError(
                f"{name} must have shape [N, {', '.join(map(str, shape))}] (or one observation of "
                f"shape {shape}), got {arr.shape}"
            )
        dtype = np.dtype(self.observation_space.dtype)
        if arr.dtype == dtype:
            return arr
        if dtype == np.uint8:
            raise TypeError(f"{name} must hold uint8 images like the training data, got dtype {arr.dtype}")
        if np.issubdtype(dtype, np.integer) and not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must hold integer token ids, got dtype {arr.dtype}")
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
        return arr.astype(dtype)

    # ---- acting -----------------------------------------------------------------------
    def _act(self, obs_t: torch.Tensor, epsilon: float) -> torch.Tensor:
        """Epsilon-greedy actions of all lanes, shape ``[E]`` (one forward pass)."""
        n = obs_t.shape[0]
        explore = torch.rand(n, generator=self.generator, device=self.device) < epsilon
        random_actions = torch.randint(0, self.n_classes, (n,), generator=self.generator, device=self.device)
        if bool(explore.all()):
            return random_actions
        with torch.inference_mode():
            greedy = self.q_net(obs_t).argmax(dim=1)
        return torch.where(explore, random_actions, greedy)

    @property
    def epsilon(self) -> float:
        """Current exploration rate."""
        decay = self.config.exploration_fraction * max(self._total_target, 1)
        return linear_epsilon(self.num_timesteps, decay, self.config.epsilon_start, self.config.epsilon_end)

    def q_values(self, obs: Any) -> np.ndarray:
        """Q-values of the greedy network, ``[B, C]`` (``[C]`` for one observation).

        Args:
            obs: ``[B, *obs_shape]`` or one observation ``obs_shape`` (numpy, tensor or
                pandas); images ``[B, H, W]`` are accepted for one-channel spaces.
        """
        single = np.ndim(obs) == len(self.observation_space.shape) and np.shape(obs) == self.observation_space.shape
        arr = self._as_obs_batch(obs)
        out = np.empty((arr.shape[0], self.n_classes), dtype=np.float32)
        step = self.config.eval_batch_size
        with torch.inference_mode():
            for start in range(0, arr.shape[0], step):
                chunk = torch.as_tensor(arr[start:start + step], device=self.device)
                out[start:start + step] = self.q_net(chunk).float().cpu().numpy()
        return out[0] if single else out

    def predict(self, obs: Any, state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[np.ndarray, None]:
        """Actions (predicted classes) for a batch of observations, SB3-style.

        Args:
            obs: ``[B, *obs_shape]`` or one observation.
            state, episode_start: unused (SB3 signature).
            deterministic: greedy actions; False draws epsilon-greedy ones with the
                current epsilon from the agent's generator.

        Returns:
            ``(actions, None)``: int64 ``[B]`` (a 0-d array for one observation).
        """
        q = self.q_values(obs)
        actions = q.argmax(axis=-1).astype(np.int64)
        if not deterministic:
            flat = actions.reshape(-1)
            n = flat.shape[0]
            explore = (torch.rand(n, generator=self.generator, device=self.device) < self.epsilon).cpu().numpy()
            rand = torch.randint(0, self.n_classes, (n,), generator=self.generator, device=self.device).cpu().numpy()
            actions = np.where(explore, rand, flat).reshape(actions.shape)
        return np.asarray(actions), None

    def evaluate(self, X: Any, y: Any) -> dict[str, Any]:
        """Greedy test metrics of the current network on ``(X, y)``.

        Args:
            X: ``[N, *obs_shape]`` observations.
            y: ``[N]`` integer labels ``0..C-1`` (1 = minority for binary data).

        Returns:
            The dict of :func:`imbalance_gym.metrics.classification_report`: ``g_mean``, ``macro_f1``, ``mcc``,
            ``confusion_matrix`` and, for binary data, ``f_measure``, ``precision``,
            ``recall``, ``specificity``.
        """
        X = self._as_obs_batch(X, "X")
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must hold one label per row of X ({X.shape[0]}), got shape {y.shape}")
        pred = self.predict(X)[0]
        return M.classification_report(y, pred, n_classes=self.n_classes)

    # ---- learning ---------------------------------------------------------------------
    def learn(self, total_timesteps: int | None = None, progress_bar: bool | None = None) -> "DQNImb":
        """Run Algorithm 1 for ``total_timesteps`` more transitions (all lanes).

        Args:
            total_timesteps: transitions to collect (default ``config.total_timesteps``);
                the run ends on the first vector step that reaches it.
            progress_bar: show a tqdm bar (steps/s, epsilon, loss, validation score);
                default ``config.progress_bar``.

        Returns:
            ``self``.
        """
        cfg = self.config
        total = cfg.total_timesteps if total_timesteps is None else total_timesteps
        if isinstance(total, bool) or not isinstance(total, numbers.Integral) or total < 1:
            raise ValueError(f"total_timesteps must be an int >= 1, got {total_timesteps!r}")
        show = cfg.progress_bar if progress_bar is None else progress_bar
        if not isinstance(show, bool):
            raise ValueError(f"progress_bar must be a bool or None, got {progress_bar!r}")
        if self.env is None:
            raise ValueError("this agent has no env (loaded without one or closed); "
                             "load it with DQNImb.load(path, env=...) to train")
        env = self.env
        n_lanes = env.num_envs
        if self.replay is None:
            self.replay = ReplayMemory(cfg.buffer_size, self.observation_space.shape, self.observation_space.dtype,
                                       self.device, self.generator)
        if self._obs is None:
            self._obs, _ = env.reset(seed=self.seed)
        self._total_target = self.num_timesteps + int(total)
        decay = cfg.exploration_fraction * self._total_target
        end_step = self._total_target
        next_eval = (self.num_timesteps // cfg.eval_freq + 1) * cfg.eval_freq
        start_time = time.perf_counter()

        obs = self._obs
        obs_t = torch.as_tensor(obs, device=self.device)
        with tqdm(total=int(total), disable=not show, unit="step", dynamic_ncols=True,
                  desc="DQNimb") as bar:
            while self.num_timesteps < end_step:
                epsilon = linear_epsilon(self.num_timesteps, decay, cfg.epsilon_start, cfg.epsilon_end)
                actions = self._act(obs_t, epsilon)
                next_obs, reward, terminated, truncated, info = env.step(actions.cpu().numpy())
                next_t = torch.as_tensor(next_obs, device=self.device)
                s_next = next_t
                done_mask = info.get("_final_obs")
                if done_mask is not None and done_mask.any():
                    # s' of a finished lane is its final observation, not the next episode's first.
                    lanes = np.flatnonzero(done_mask)
                    final = np.stack([info["final_obs"][i] for i in lanes])
                    s_next = next_t.clone()
                    s_next[torch.as_tensor(lanes, device=self.device)] = torch.as_tensor(final, device=self.device)
                self.replay.add(obs_t, actions, reward, s_next, terminated, truncated)
                obs, obs_t = next_obs, next_t
                self.num_timesteps += n_lanes

                due = self._updates_due() - self.num_updates
                if due > 0:
                    self._train(due)
                if self.eval_data is not None and self.num_timesteps >= next_eval:
                    self._validate(epsilon, time.perf_counter() - start_time)
                    next_eval = (self.num_timesteps // cfg.eval_freq + 1) * cfg.eval_freq
                    bar.set_postfix(self._postfix(epsilon), refresh=False)
                elif show and self.num_timesteps % (64 * n_lanes) < n_lanes:
                    bar.set_postfix(self._postfix(epsilon), refresh=False)
                bar.update(n_lanes)
            self._obs = obs
            if self.eval_data is not None:
                if not self.history or self.history[-1]["step"] != self.num_timesteps:
                    self._validate(epsilon, time.perf_counter() - start_time)
                bar.set_postfix(self._postfix(epsilon), refresh=True)
        if cfg.load_best and self._best_state is not None:
            self.q_net.load_state_dict(self._best_state)
            self.target_net.load_state_dict(self._best_state)
        return self

    def _updates_due(self) -> int:
        """Gradient steps owed so far: ``gradient_steps`` per ``train_frequency`` transitions
        collected after the first ``learning_starts``."""
        cfg = self.config
        if self.num_timesteps < cfg.learning_starts:
            return 0
        return (self.num_timesteps - cfg.learning_starts) // cfg.train_frequency * cfg.gradient_steps

    def _train(self, n_updates: int) -> None:
        """``n_updates`` sequential gradient steps on eq. (8) with targets of eq. (9).

        All mini-batches are drawn at once (the memory does not change between them),
        and updates that see the same target network share one target forward pass
        (except CNN bodies on a CPU, where one pass per update is faster).
        """
        cfg = self.config
        B, C = cfg.batch_size, self.n_classes
        batch = self.replay.gather(self.replay.sample_indices(n_updates, B))
        params = self._params
        done = 0
        loss = None
        while done < n_updates:
            until_sync = cfg.target_update_interval - self.num_updates % cfg.target_update_interval
            m = min(n_updates - done, until_sync, self._target_group)
            with torch.no_grad():
                next_obs = batch.next_obs[done:done + m].flatten(0, 1)
                next_q = self.target_net(next_obs).view(m, B, C)
                targets = td_target(batch.rewards[done:done + m], next_q, batch.terminated[done:done + m],
                                    cfg.gamma)
            for j in range(m):
                k = done + j
                q_taken = self.q_net(batch.obs[k]).gather(1, batch.actions[k].unsqueeze(1)).squeeze(1)
                loss = q_loss(q_taken, targets[j], cfg.loss)
                for p in params:  # zero_grad(set_to_none=True) without its per-call bookkeeping
                    p.grad = None
                loss.backward()
                if cfg.max_grad_norm is not None:
                    _clip_grad_norm(params, cfg.max_grad_norm)
                self.optimizer.step()
            done += m
            self.num_updates += m
            if self.num_updates % cfg.target_update_interval == 0:
                self.target_net.load_state_dict(self.q_net.state_dict())
        self._last_loss = loss.detach()

    def _validate(self, epsilon: float, elapsed: float) -> None:
        """Score the greedy policy on the validation data; keep the best weights."""
        X, y = self.eval_data
        scores = self.evaluate(X, y)
        primary = scores[self.config.selection_metric]
        secondary = scores["f_measure" if self.config.selection_metric == "g_mean" and "f_measure" in scores
                           else "g_mean"]
        key = (float(primary), float(secondary))  # ties on small validation sets break on the other metric
        record = {"step": self.num_timesteps, "updates": self.num_updates, "epsilon": float(epsilon),
                  "loss": None if self._last_loss is None else float(self._last_loss),
                  "elapsed_s": float(elapsed)}
        record.update({k: v for k, v in scores.items() if k != "confusion_matrix"})
        if self.best_score is None or key > self.best_score:
            self.best_score, self.best_step = key, self.num_timesteps
            self._best_state = {k: v.detach().clone() for k, v in self.q_net.state_dict().items()}
        record["best_" + self.config.selection_metric] = self.best_score[0]
        self.history.append(record)

    def _postfix(self, epsilon: float) -> dict[str, str]:
        out = {"eps": f"{epsilon:.3f}"}
        if self._last_loss is not None:
            out["loss"] = f"{float(self._last_loss):.4f}"
        if self.history:
            m = self.config.selection_metric
            out["val_" + m] = f"{self.history[-1][m]:.3f}"
            out["best"] = f"{self.best_score[0]:.3f}"
        return out

    def close(self) -> None:
        """Close the env and free the replay memory; predicting, evaluating and saving still work."""
        if self.env is not None:
            self.env.close()
        self.env = None
        self.replay = None
        self._obs = None

    # ---- persistence ------------------------------------------------------------------
    def _metadata(self) -> dict[str, Any]:
        arch = [[k, list(v.shape)] for k, v in self.q_net.state_dict().items()]
        return {
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
            "config": self.config.to_dict(), "seed": self.seed,
            "observation_space": _space_to_json(self.observation_space),
            "n_classes": self.n_classes, "network": self.network_kind, "architecture": arch,
            "num_timesteps": self.num_timesteps, "num_updates": self.num_updates,
            "best_score": None if self.best_score is None else list(self.best_score),
            "best_step": self.best_step, "history": self.history,
        }

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint zip: ``metadata.json`` + tensor-only ``*.pt`` state dicts.

        The archive holds the JSON metadata (config, observation space, number of classes,
        network kind, parameter names and shapes, counters, validation history) and the
        Q-network, target network and optimizer state dicts saved with ``torch.save``;
        :meth:`load` reads them back with ``torch.load(..., weights_only=True)``.

        Args:
            path: file to write (parent folders are created).

        Returns:
            The path written.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("metadata.json", json.dumps(self._metadata(), indent=1))
            zf.writestr("q_net.pt", _state_to_bytes(self.q_net.state_dict()))
            zf.writestr("target_net.pt", _state_to_bytes(self.target_net.state_dict()))
            zf.writestr("optimizer.pt", _state_to_bytes(self.optimizer.state_dict()))
        return path

    @classmethod
    def load(cls, path: str | Path, env: Any = None, device: str | torch.device = "auto",
             eval_data: tuple[Any, Any] | None = None) -> "DQNImb":
        """Rebuild an agent from :meth:`save` output.

        Args:
            path: checkpoint zip.
            env: optional env to keep training on; its observation space and number of
                classes must match the checkpoint's.
            device: where to put the networks (``"auto"``: CUDA when present).
            eval_data: optional validation data for further ``learn`` calls.

        Raises:
            ValueError: not a DQNimb checkpoint, or an env / architecture that does not
                match it (naming what differs).
        """
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"path {str(path)!r} is not a checkpoint file")
        try:
            with zipfile.ZipFile(path) as zf:
                meta = json.loads(zf.read("metadata.json"))
                blobs = {name: zf.read(name) for name in ("q_net.pt", "target_net.pt", "optimizer.pt")}
        except (zipfile.BadZipFile, KeyError) as err:
            raise ValueError(f"{str(path)!r} is not a DQNImb checkpoint: {err}") from err
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{str(path)!r} is not a DQNImb checkpoint (format {meta.get('format')!r})")
        if meta.get("version") != CHECKPOINT_VERSION:
            raise ValueError(f"checkpoint version {meta.get('version')!r} is not supported "
                             f"(this code reads version {CHECKPOINT_VERSION})")
        config = DQNImbConfig.from_dict(meta["config"])
        space = _space_from_json(meta["observation_space"])
        n_classes = int(meta["n_classes"])
        agent = cls.__new__(cls)
        if env is not None:
            vec = as_vector_env(env, config.num_envs)
            got = vec.single_observation_space
            if tuple(got.shape) != tuple(space.shape) or np.dtype(got.dtype) != np.dtype(space.dtype):
                raise ValueError(
                    f"env observation space {got.shape} {np.dtype(got.dtype)} does not match the "
                    f"checkpoint's {tuple(space.shape)} {np.dtype(space.dtype)}"
                )
            if int(vec.single_action_space.n) != n_classes:
                raise ValueError(f"env has {vec.single_action_space.n} actions, the checkpoint {n_classes}")
            space = got
        agent._setup(space, n_classes, config, meta["seed"], device)
        agent.env = vec if env is not None else None
        states = {name: torch.load(io.BytesIO(blob), map_location=agent.device, weights_only=True)
                  for name, blob in blobs.items()}
        expected = {k: tuple(v.shape) for k, v in agent.q_net.state_dict().items()}
        for name in ("q_net.pt", "target_net.pt"):
            stored = {k: tuple(v.shape) for k, v in states[name].items()}
            saved_arch = {k: tuple(s) for k, s in meta["architecture"]}
            if stored != expected or saved_arch != expected:
                diff = sorted(set(stored.items()) ^ set(expected.items()))[:4]
                raise ValueError(
                    f"checkpoint {name} does not fit the {agent.network_kind!r} network that its "
                    f"config and observation space describe (first differences: {diff})"
                )
        agent.q_net.load_state_dict(states["q_net.pt"])
        agent.target_net.load_state_dict(states["target_net.pt"])
        agent.optimizer.load_state_dict(states["optimizer.pt"])
        agent.num_timesteps = int(meta["num_timesteps"])
        agent.num_updates = int(meta["num_updates"])
        agent.best_score = None if meta["best_score"] is None else tuple(meta["best_score"])
        agent.best_step = meta["best_step"]
        agent.history = list(meta["history"])
        agent.eval_data = None if eval_data is None else agent._check_eval_data(eval_data)
        return agent
