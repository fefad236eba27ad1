"""AutoSMOTE's three policy-value networks (Zha et al., CIKM'22, sec. 3.3), in torch and numpy.

* :class:`DiscretePolicy` -- the cross-instance sub-policy (``G1 + 1`` logits for
  ``g1``) and the instance-specific sub-policy (``G2 + 1`` logits for ``g2``): an MLP
  body, a linear policy head and a linear value head.
* :class:`PairScoringPolicy` -- the low-level policy: the body maps the state to a
  representation ``h``; the policy head scores every (neighbour, weight) pair with an
  MLP over ``[h, action features]`` (the neighbour's usage one-hot and offset, and a
  one-hot of the weight, :func:`imbalance_gym.envs.smote_space.action_features`), and a
  softmax over the pairs gives ``pi_l(a|s)``. With ``extra_actions=1`` it is the flat
  ablation's policy (sec. 4.4), whose last action ("next instance") is scored by a
  linear head on ``h``.

The first layer of the pair scorer is linear in ``[h, nf_slot, onehot_w]``, so it is
evaluated as ``W_h h + W_n nf_slot + W_w[w] + b`` -- one product per state, one per
neighbour and one per weight instead of one per pair -- which is the same arithmetic as
concatenating first (a test pins the two against each other).

Actors act with :class:`NumpyPolicies`, a numpy mirror of the same functions on a copy of
the learner's weights: a forward pass of these small MLPs costs a few microseconds in
numpy against tens in torch, and an episode takes ``1 + 2 N_min`` of them.

Inputs (:func:`policy_input`): the observation's ``state`` (instance features + usage
one-hot; at level 0 the minority centroid + usage-bin fractions) concatenated with its
``progress`` vector, which carries ``g1``, the position in the episode and, for the low
level, the goal ``g`` (sec. 3.2: ``pi_l`` takes ``g`` as input).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from agents.networks import MLPBody
from imbalance_gym.envs.smote_space import N_WEIGHTS

__all__ = [
    "CROSS_INSTANCE",
    "FLAT",
    "INSTANCE_SPECIFIC",
    "LOW_LEVEL",
    "MASKED_LOGIT",
    "DiscretePolicy",
    "NumpyPolicies",
    "PairScoringPolicy",
    "PolicySpec",
    "flat_parameters",
    "log_probs_and_entropy",
    "low_level_input",
    "make_policies",
    "masked_log_softmax_np",
    "parameter_layout",
    "policy_input",
    "prepare_numpy",
    "unflatten_parameters",
]

CROSS_INSTANCE = "cross_instance"
INSTANCE_SPECIFIC = "instance_specific"
LOW_LEVEL = "low_level"
FLAT = "flat"

MASKED_LOGIT = -1e9
"""Logit given to invalid actions: a probability of exactly 0 after the softmax, while
log-probabilities and entropies stay finite (no ``0 * inf``)."""


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------
def policy_input(obs: dict) -> np.ndarray:
    """Policy input of an observation: ``[state, progress]``, float32 ``[D + 10 + P]``."""
    return np.concatenate([obs["state"], obs["progress"]]).astype(np.float32, copy=False)


def low_level_input(obs: dict, g: int, per_instance: int) -> np.ndarray:
    """Low-level input at the start of an instance's segment, from its level-1 observation.

    The level-2 observation that ``env.step(g2)`` would return differs from the
    instance's level-1 observation only in ``progress[2] = left / (G1 G2)``, which is
    ``g / (G1 G2)`` at the start of the segment (and the action mask, which the low level
    does not use: all ``5 K`` pairs are valid). Building it here saves an environment call
    per instance; a test checks it against the environment's own observation.

    Args:
        obs: the level-1 observation of the instance (hierarchical env).
        g: the instance's goal ``g1 * g2 > 0``.
        per_instance: ``G1 * G2``.

    Returns:
        float32 ``[D + 14]``, as :func:`policy_input` of the level-2 observation.
    """
    x = policy_input(obs).copy()
    x[-2] = np.float32(g / per_instance)  # progress = [g1/G1, i/N_min, left/(G1 G2), n/max_synthetic]
    return x


# --------------------------------------------------------------------------------------
# Torch networks
# --------------------------------------------------------------------------------------
def masked_logits(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``logits`` with invalid actions (``mask == False``) set to :data:`MASKED_LOGIT`."""
    if mask is None:
        return logits
    return logits.masked_fill(~mask.bool(), MASKED_LOGIT)


def log_probs_and_entropy(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-softmax ``[..., A]`` and entropy ``[...]`` of (already masked) logits."""
    logp = F.log_softmax(logits, dim=-1)
    entropy = -(logp.exp() * logp).sum(-1)
    return logp, entropy


class DiscretePolicy(nn.Module):
    """Cross-instance or instance-specific policy-value network (sec. 3.3).

    ``s -> MLP -> h``; ``pi(.|s) = softmax(W_pi h + b)`` over the valid actions;
    ``V(s) = w_V . h + b_V``.

    Args:
        in_features: input size (:func:`policy_input`).
        n_actions: ``G1 + 1`` or ``G2 + 1``.
        hidden_sizes: body widths (paper: 128-128).
    """

    def __init__(self, in_features: int, n_actions: int, hidden_sizes: Sequence[int] = (128, 128)):
        super().__init__()
        if n_actions < 1:
            raise ValueError(f"n_actions must be >= 1, got {n_actions}")
        self.body = MLPBody(in_features, hidden_sizes)
        self.policy = nn.Linear(self.body.out_features, n_actions)
        self.value = nn.Linear(self.body.out_features, 1)
        self.n_actions = n_actions

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked logits ``[B, A]`` and values ``[B]`` of inputs ``x`` ``[B, F]``."""
        h = self.body(x)
        return masked_logits(self.policy(h), mask), self.value(h).squeeze(-1)

    @staticmethod
    def numpy_forward(q: dict[str, Any], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`forward` in numpy (no mask) on :func:`prepare_numpy` parameters ``q``."""
        h = _np_body(q, x)
        return h @ q["policy.weight"] + q["policy.bias"], (h @ q["value.weight"] + q["value.bias"])[..., 0]


class PairScoringPolicy(nn.Module):
    """Low-level policy-value network that scores (neighbour, weight) pairs (sec. 3.3).

    ``h = MLP(s)``, ``V(s) = w_V . h + b_V``, and for action ``a = slot * 5 + w_idx``
    (:func:`~imbalance_gym.envs.smote_space.encode_action` order)::

        score(s, a) = MLP_score([h, nf[slot], onehot_5(w_idx)])
        pi(a|s)     = softmax_a score(s, a)

    Args:
        in_features: state input size (:func:`policy_input`).
        neighbour_features: ``F`` of the ``[K, F]`` neighbour table (``10 + D``).
        hidden_sizes: body widths (paper: 128-128).
        score_hidden_sizes: hidden widths of the pair scorer.
        extra_actions: actions scored from ``h`` alone, appended after the ``5 K`` pairs
            (1 for the flat ablation's "next instance").
    """

    def __init__(self, in_features: int, neighbour_features: int, hidden_sizes: Sequence[int] = (128, 128),
                 score_hidden_sizes: Sequence[int] = (128,), extra_actions: int = 0):
        super().__init__()
        if neighbour_features < 1 or extra_actions < 0 or len(score_hidden_sizes) == 0:
            raise ValueError(
                f"need neighbour_features >= 1, extra_actions >= 0 and a score layer, got "
                f"{neighbour_features}, {extra_actions}, {tuple(score_hidden_sizes)}"
            )
        self.body = MLPBody(in_features, hidden_sizes)
        h = self.body.out_features
        self.value = nn.Linear(h, 1)
        sizes = [int(s) for s in score_hidden_sizes]
        self.score_in = nn.Linear(h + neighbour_features + N_WEIGHTS, sizes[0])
        self.score_hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.score_out = nn.Linear(sizes[-1], 1)
        self.extra = nn.Linear(h, extra_actions) if extra_actions else None
        self.neighbour_features = neighbour_features
        self.extra_actions = extra_actions
        self.rep_features = h

    def forward(self, x: torch.Tensor, nf: torch.Tensor, mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked logits ``[B, 5 K + extra]`` and values ``[B]``.

        Args:
            x: state inputs ``[B, F_s]``.
            nf: neighbour tables ``[B, K, F]`` (the observation's ``neighbour_features``).
            mask: optional valid actions ``[B, 5 K + extra]``.
        """
        h = self.body(x)
        W = self.score_in.weight  # [S, h + F + 5], columns in concatenation order
        H, Fn = self.rep_features, self.neighbour_features
        from_state = h @ W[:, :H].T + self.score_in.bias          # [B, S]
        from_neighbour = nf.float() @ W[:, H:H + Fn].T            # [B, K, S]
        from_weight = W[:, H + Fn:].T                             # [5, S]
        z = F.relu(from_state[:, None, None, :] + from_neighbour[:, :, None, :] + from_weight)  # [B, K, 5, S]
        for layer in self.score_hidden:
            z = F.relu(layer(z))
        logits = self.score_out(z).squeeze(-1).flatten(1)        # [B, 5K], index slot * 5 + w_idx
        if self.extra is not None:
            logits = torch.cat([logits, self.extra(h)], dim=1)
        return masked_logits(logits, mask), self.value(h).squeeze(-1)

    @staticmethod
    def numpy_forward(q: dict[str, Any], x: np.ndarray, nf: np.ndarray) -> tuple[np.ndarray, float]:
        """:meth:`forward` in numpy (no mask) for one state ``x [F_s]``, ``nf [K, F]``, on
        :func:`prepare_numpy` parameters ``q``."""
        h = _np_body(q, x)
        from_neighbour = nf @ q["score_in.neighbour"]                                  # [K, S]
        from_neighbour += h @ q["score_in.state"] + q["score_in.bias"]
        z = q.get("scratch")  # the [K, 5, S] activations, reused between calls
        if z is None or z.shape[0] != nf.shape[0]:
            z = q["scratch"] = np.empty((nf.shape[0], N_WEIGHTS, from_neighbour.shape[1]), dtype=np.float32)
        np.add(from_neighbour[:, None, :], q["score_in.weight_onehot"], out=z)
        np.maximum(z, 0.0, out=z)
        for W, b in q["score_hidden"]:
            z = z @ W + b
            np.maximum(z, 0.0, out=z)
        logits = (z @ q["score_out.weight"]).reshape(-1) + q["score_out.bias"]
        if "extra.weight" in q:
            logits = np.concatenate([logits, h @ q["extra.weight"] + q["extra.bias"]])
        return logits, float(h @ q["value.weight"][:, 0] + q["value.bias"][0])


def _np_body(q: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """:class:`~agents.networks.MLPBody` in numpy: Linear + ReLU layers."""
    for W, b in q["body"]:
        x = x @ W + b
        np.maximum(x, 0.0, out=x)
    return x


def prepare_numpy(params: dict[str, np.ndarray], n_layers: int) -> dict[str, Any]:
    """Contiguous, transposed copies of one network's ``state_dict`` arrays for numpy forwards.

    ``x @ W.T`` with a strided ``W.T`` is several times slower than with a contiguous
    matrix, so every weight is stored as ``W.T`` once per weights update. The pair
    scorer's first weight is split into its state, neighbour and weight-one-hot blocks.
    """
    def t(name):
        return np.ascontiguousarray(params[name].T)

    q: dict[str, Any] = {"body": [(t(f"body.net.{2 * i}.weight"), params[f"body.net.{2 * i}.bias"].copy())
                                  for i in range(n_layers)]}
    q["value.weight"], q["value.bias"] = t("value.weight"), params["value.bias"].copy()
    if "policy.weight" in params:
        q["policy.weight"], q["policy.bias"] = t("policy.weight"), params["policy.bias"].copy()
        return q
    W = params["score_in.weight"]
    H = params["value.weight"].shape[1]
    Fn = W.shape[1] - H - N_WEIGHTS
    q["score_in.state"] = np.ascontiguousarray(W[:, :H].T)
    q["score_in.neighbour"] = np.ascontiguousarray(W[:, H:H + Fn].T)
    q["score_in.weight_onehot"] = np.ascontiguousarray(W[:, H + Fn:].T)
    q["score_in.bias"] = params["score_in.bias"].copy()
    n_hidden = sum(1 for k in params if k.startswith("score_hidden.") and k.endswith(".weight"))
    q["score_hidden"] = [(t(f"score_hidden.{i}.weight"), params[f"score_hidden.{i}.bias"].copy())
                         for i in range(n_hidden)]
    q["score_out.weight"] = params["score_out.weight"][0].copy()
    q["score_out.bias"] = np.float32(params["score_out.bias"][0])
    if "extra.weight" in params:
        q["extra.weight"], q["extra.bias"] = t("extra.weight"), params["extra.bias"].copy()
    return q


# --------------------------------------------------------------------------------------
# The set of policies of a run
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PolicySpec:
    """Sizes of the policies for one environment.

    Attributes:
        state_features: ``D + 10 + P`` (:func:`policy_input`; ``P`` = 4, flat env 3).
        neighbour_features: ``10 + D``.
        K: neighbours per instance (``5 K`` pairs).
        n_g1, n_g2: ``G1 + 1`` and ``G2 + 1`` (hierarchical env).
        flat: whether this is the flat env (one policy with ``5 K + 1`` actions).
    """

    state_features: int
    neighbour_features: int
    K: int
    n_g1: int
    n_g2: int
    flat: bool

    @classmethod
    def from_env(cls, env) -> "PolicySpec":
        """Sizes read from an AutoSMOTE env's observation space and search space."""
        u = env.unwrapped
        space = u.observation_space
        return cls(
            state_features=int(space["state"].shape[0] + space["progress"].shape[0]),
            neighbour_features=int(space["neighbour_features"].shape[1]),
            K=int(u.K), n_g1=int(u.G1) + 1, n_g2=int(u.G2) + 1, flat="level" not in space.spaces,
        )

    def to_dict(self) -> dict:
        return dict(state_features=self.state_features, neighbour_features=self.neighbour_features,
                    K=self.K, n_g1=self.n_g1, n_g2=self.n_g2, flat=self.flat)


def make_policies(spec: PolicySpec, levels: Sequence[str], hidden_sizes: Sequence[int] = (128, 128),
                  score_hidden_sizes: Sequence[int] = (128,)) -> nn.ModuleDict:
    """The policy-value networks of the learned ``levels`` (keys as in :data:`LOW_LEVEL` etc.)."""
    out = {}
    for level in levels:
        if level == CROSS_INSTANCE:
            out[level] = DiscretePolicy(spec.state_features, spec.n_g1, hidden_sizes)
        elif level == INSTANCE_SPECIFIC:
            out[level] = DiscretePolicy(spec.state_features, spec.n_g2, hidden_sizes)
        elif level in (LOW_LEVEL, FLAT):
            out[level] = PairScoringPolicy(spec.state_features, spec.neighbour_features, hidden_sizes,
                                           score_hidden_sizes, extra_actions=1 if level == FLAT else 0)
        else:
            raise ValueError(f"unknown level {level!r}")
    return nn.ModuleDict(out)


def parameter_layout(policies: nn.ModuleDict) -> list[tuple[str, tuple[int, ...]]]:
    """``(name, shape)`` of every parameter in :func:`flat_parameters` order."""
    return [(name, tuple(p.shape)) for name, p in policies.named_parameters()]


def flat_parameters(policies: nn.ModuleDict) -> np.ndarray:
    """All parameters as one float32 vector (what actors receive), on the CPU."""
    with torch.no_grad():
        return torch.cat([p.detach().reshape(-1).float().cpu() for p in policies.parameters()]).numpy()


def unflatten_parameters(flat: np.ndarray, layout: Sequence[tuple[str, tuple[int, ...]]]) -> dict[str, dict[str, np.ndarray]]:
    """Views into ``flat`` per level and parameter name: ``{level: {"body.net.0.weight": ...}}``."""
    total = sum(int(np.prod(shape)) for _, shape in layout)
    if total != flat.size:
        raise ValueError(f"flat parameters hold {flat.size} floats, the layout {total}")
    out: dict[str, dict[str, np.ndarray]] = {}
    offset = 0
    for name, shape in layout:
        size = int(np.prod(shape))
        level, param = name.split(".", 1)
        out.setdefault(level, {})[param] = flat[offset:offset + size].reshape(shape)
        offset += size
    return out


def masked_log_softmax_np(logits: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Log-softmax in float64 over the valid actions (invalid ones get ``-inf``)."""
    z = np.asarray(logits, dtype=np.float64)
    if mask is not None:
        z = np.where(mask, z, -np.inf)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


class NumpyPolicies:
    """The policies' forward passes in numpy, on a private copy of the flat weights.

    Args:
        layout: :func:`parameter_layout` of the learner's policies.
        n_layers: body depth (``len(hidden_sizes)``).
        flat: initial weights (copied), or None for zeros until :meth:`load`.

    Attributes:
        n_forward: forward passes so far (for tests and profiling).
    """

    def __init__(self, layout: Sequence[tuple[str, tuple[int, ...]]], n_layers: int, flat: np.ndarray | None = None):
        self.layout = list(layout)
        size = sum(int(np.prod(s)) for _, s in self.layout)
        self.weights = np.zeros(size, dtype=np.float32)
        self.n_layers = n_layers
        self.n_forward = 0
        self._prepared: dict[str, dict[str, Any]] = {}
        self.load(self.weights if flat is None else flat)

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(self._prepared)

    def load(self, flat: np.ndarray) -> None:
        """Copy new weights in."""
        np.copyto(self.weights, np.asarray(flat, dtype=np.float32).reshape(-1))
        params = unflatten_parameters(self.weights, self.layout)
        self._prepared = {level: prepare_numpy(p, self.n_layers) for level, p in params.items()}

    def discrete(self, level: str, x: np.ndarray) -> tuple[np.ndarray, float]:
        """Logits ``[A]`` and value of one input ``x`` ``[F]`` at a discrete level."""
        self.n_forward += 1
        logits, value = DiscretePolicy.numpy_forward(self._prepared[level], x)
        return logits, float(value)

    def pairs(self, level: str, x: np.ndarray, nf: np.ndarray) -> tuple[np.ndarray, float]:
        """Logits ``[5 K (+1)]`` and value of one low-level (or flat) state."""
        self.n_forward += 1
        return PairScoringPolicy.numpy_forward(self._prepared[level], x, nf)
