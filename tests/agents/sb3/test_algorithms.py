"""Every algorithm of the registry trains through agents.sb3, saves, reloads and predicts the same."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.callbacks import BaseCallback

from agents.sb3 import (
    ALGORITHMS,
    POLICIES,
    ImageCNNExtractor,
    TokenExtractor,
    load_model,
    make_model,
    make_vec_env,
    policy_name,
)

ICMDP = "imbalance_gym/ICMDP-v0"
AUTOSMOTE = "imbalance_gym/AutoSMOTE-v0"
FLAT = "imbalance_gym/AutoSMOTE-Flat-v0"

# Small settings per algorithm: a few hundred steps run in about a second.
FAST = {
    "dqn": dict(learning_starts=64, buffer_size=2_000, batch_size=32, train_freq=4,
                target_update_interval=100, policy_kwargs={"net_arch": [32]}),
    "ppo": dict(n_steps=64, batch_size=64, n_epochs=2, policy_kwargs={"net_arch": [32]}),
    "a2c": dict(n_steps=8, policy_kwargs={"net_arch": [32]}),
    "maskable_ppo": dict(n_steps=64, batch_size=64, n_epochs=2, policy_kwargs={"net_arch": [32]}),
}


def assert_same_weights(a, b):
    sa, sb = a.policy.state_dict(), b.policy.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def save_reload_predict(algo, model, tmp_path, obs, action_masks=None, policy_kwargs=None):
    """Save, reload with load_model (given what make_model was given), compare weights and actions."""
    path = tmp_path / f"{algo}.zip"
    model.save(path)
    loaded = load_model(algo, path, env=model.get_env(), device="cpu", policy_kwargs=policy_kwargs)
    assert type(loaded) is type(model)
    assert_same_weights(model, loaded)
    extra = {} if action_masks is None else {"action_masks": action_masks}
    before = model.predict(obs, deterministic=True, **extra)[0]
    after = loaded.predict(obs, deterministic=True, **extra)[0]
    assert_array_equal(before, after)
    return loaded


def test_registry_names_each_algorithm_and_policy():
    assert ALGORITHMS == {"dqn": DQN, "ppo": PPO, "a2c": A2C, "maskable_ppo": MaskablePPO}
    for cls in ALGORITHMS.values():
        for policy in POLICIES.values():
            assert policy in cls.policy_aliases


# --------------------------------------------------------------------------------------
# ICMDP: DQN, PPO, A2C
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("algo", ["dqn", "ppo", "a2c"])
def test_icmdp_algorithms_train_save_reload(algo, tiny_binary, tmp_path):
    X, y = tiny_binary
    venv = make_vec_env(ICMDP, n_envs=4, seed=0, X=X, y=y)
    model = make_model(algo, venv, seed=0, device="cpu", **FAST[algo])
    model.learn(300)
    assert model.num_timesteps >= 300
    assert len(model.ep_info_buffer) > 0  # VecMonitor reported finished episodes
    save_reload_predict(algo, model, tmp_path, X.astype(np.float32), policy_kwargs=FAST[algo]["policy_kwargs"])


@pytest.mark.parametrize("algo", ["dqn", "ppo"])
def test_same_seed_same_weights(algo, tiny_binary):
    X, y = tiny_binary
    models = []
    for _ in range(2):
        venv = make_vec_env(ICMDP, n_envs=2, seed=3, X=X, y=y)
        model = make_model(algo, venv, seed=3, device="cpu", **FAST[algo])
        models.append(model.learn(200))
    assert_same_weights(*models)


def test_image_icmdp_trains_the_dqnimb_cnn(tiny_images, tmp_path):
    X, y = tiny_images
    venv = make_vec_env(ICMDP, n_envs=2, seed=0, X=X, y=y)
    model = make_model("ppo", venv, seed=0, device="cpu", n_steps=64, batch_size=64, n_epochs=1)
    assert isinstance(model.policy.features_extractor, ImageCNNExtractor)
    model.learn(128)
    save_reload_predict("ppo", model, tmp_path, X)


def test_token_icmdp_trains_the_text_net(tiny_tokens, tmp_path):
    X, y = tiny_tokens
    venv = make_vec_env(ICMDP, n_envs=2, seed=0, X=X, y=y, observation="tokens")
    model = make_model("dqn", venv, seed=0, device="cpu", learning_starts=32, buffer_size=500,
                       batch_size=16, train_freq=4)
    assert isinstance(model.q_net.features_extractor, TokenExtractor)
    model.learn(200)
    save_reload_predict("dqn", model, tmp_path, X)


# --------------------------------------------------------------------------------------
# AutoSMOTE: MaskablePPO on the three-level env, PPO / A2C / DQN on the flat one
# --------------------------------------------------------------------------------------
class MaskAudit(BaseCallback):
    """Records whether every action MaskablePPO took during training was allowed."""

    def __init__(self):
        super().__init__()
        self.n_checked = 0
        self.n_masked_taken = 0

    def _on_step(self) -> bool:
        masks = self.locals["action_masks"]
        actions = np.asarray(self.locals["actions"]).reshape(-1)
        allowed = masks[np.arange(actions.size), actions]
        self.n_checked += actions.size
        self.n_masked_taken += int((~allowed).sum())
        return True


def test_maskable_ppo_trains_on_autosmote_and_never_takes_a_masked_action(smote_kwargs, tmp_path):
    venv = make_vec_env(AUTOSMOTE, n_envs=2, seed=0, **smote_kwargs)
    model = make_model("maskable_ppo", venv, seed=0, device="cpu", **FAST["maskable_ppo"])
    assert policy_name(venv) == "MultiInputPolicy"
    audit = MaskAudit()
    model.learn(256, callback=audit)
    assert audit.n_checked >= 256 and audit.n_masked_taken == 0

    # A whole episode of sampled (not greedy) actions: each one allowed by the mask of its step.
    obs = venv.reset()
    levels = set()
    for _ in range(500):
        masks = get_action_masks(venv)
        actions, _ = model.predict(obs, action_masks=masks, deterministic=False)
        assert masks[np.arange(2), actions].all()
        levels.update(obs["level"].tolist())
        obs, _, dones, infos = venv.step(actions)
        if dones[0]:
            assert 0.0 <= infos[0]["metric"] <= 1.0
            break
    else:
        pytest.fail("no episode ended in 500 steps")
    assert levels == {0, 1, 2}  # the episode visited all three levels

    obs = venv.reset()
    save_reload_predict("maskable_ppo", model, tmp_path, obs, action_masks=get_action_masks(venv),
                        policy_kwargs=FAST["maskable_ppo"]["policy_kwargs"])


@pytest.mark.parametrize("algo", ["ppo", "a2c", "dqn"])
def test_flat_autosmote_trains_unmasked_algorithms(algo, smote_kwargs, tmp_path):
    venv = make_vec_env(FLAT, n_envs=2, seed=0, **smote_kwargs)
    model = make_model(algo, venv, seed=0, device="cpu", **FAST[algo])
    model.learn(200)
    assert len(model.ep_info_buffer) > 0
    save_reload_predict(algo, model, tmp_path, venv.reset(), policy_kwargs=FAST[algo]["policy_kwargs"])


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------
def test_unknown_algorithm_lists_the_known_ones(tiny_binary, tmp_path):
    X, y = tiny_binary
    venv = make_vec_env(ICMDP, X=X, y=y)
    with pytest.raises(ValueError, match=r"algo must be one of \['a2c', 'dqn', 'maskable_ppo', 'ppo'\], got 'sac'"):
        make_model("sac", venv)
    with pytest.raises(ValueError, match="algo must be one of"):
        load_model("trpo", tmp_path / "x.zip")


def test_maskable_ppo_needs_action_masks(tiny_binary):
    X, y = tiny_binary
    with pytest.raises(ValueError, match="needs an env with action_masks"):
        make_model("maskable_ppo", make_vec_env(ICMDP, X=X, y=y))


def test_policy_name_rejects_unsupported_spaces():
    from gymnasium import spaces

    assert policy_name(spaces.Box(0, 1, (3,))) == "MlpPolicy"
    with pytest.raises(ValueError, match="supported space types"):
        policy_name(spaces.Discrete(4))


# --------------------------------------------------------------------------------------
# Loading never unpickles
# --------------------------------------------------------------------------------------
def _rewrite_data(path, change):
    """Rewrite the ``data`` JSON of an SB3 zip with ``change(dict)``."""
    import json
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    data = json.loads(members["data"])
    change(data)
    members["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, blob in members.items():
            z.writestr(name, blob)


class _Payload:
    """Unpickling this creates a file: the proof that a load ran code from the zip."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_load_model_rebuilds_pickled_entries_and_never_runs_them(tiny_binary, tmp_path):
    import base64

    import cloudpickle

    X, y = tiny_binary
    venv = make_vec_env(ICMDP, n_envs=2, seed=0, X=X, y=y)
    model = make_model("dqn", venv, seed=0, device="cpu", learning_starts=10, train_freq=1)
    model.learn(40)
    path = tmp_path / "dqn.zip"
    model.save(path)
    marker = tmp_path / "ran"
    blob = base64.b64encode(cloudpickle.dumps(_Payload(marker))).decode()

    def poison(data):  # replace every pickled entry by the payload, keep the readable fields
        for item in data.values():
            if isinstance(item, dict) and ":serialized:" in item:
                item[":serialized:"] = blob

    _rewrite_data(path, poison)
    loaded = load_model("dqn", path, env=venv, device="cpu", custom_objects={"train_freq": 1})
    assert not marker.exists()
    assert_same_weights(model, loaded)
    assert loaded.observation_space == venv.observation_space and loaded.train_freq.frequency == 1
    loaded.learn(20, reset_num_timesteps=False)              # resumes: the envs are reset, not unpickled
    assert loaded.num_timesteps == model.num_timesteps + 20 and not marker.exists()

    # an unknown pickled entry is refused by name; without env there is nothing to rebuild from
    _rewrite_data(path, lambda data: data.update(extra={":type:": "x", ":serialized:": blob}))
    with pytest.raises(ValueError, match="'extra' is pickled Python"):
        load_model("dqn", path, env=venv)
    with pytest.raises(ValueError, match="needs env="):
        load_model("dqn", path)
    assert not marker.exists()
