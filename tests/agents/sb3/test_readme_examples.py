"""The README's Stable-Baselines3 examples run as written (with tiny budgets here).

Each example is kept below as the README shows it, with its budgets as ``{placeholders}``;
:data:`README_BUDGETS` fills them for the README, :data:`TEST_BUDGETS` for these tests.
"""

from __future__ import annotations

import re

import pytest

DQN_ON_ICMDP = '''
from agents.sb3 import ICMDPEvalCallback, make_model, make_vec_env
from imbalance_gym.datasets import load_task
from imbalance_gym.metrics import g_mean

task = load_task("breast_cancer", ratio=0.1, seed=0)  # ships with scikit-learn
venv = make_vec_env("imbalance_gym/ICMDP-v0", n_envs=8, seed=0, X=task.X_train, y=task.y_train)
model = make_model("dqn", venv, seed=0, gamma=0.1, learning_starts={learning_starts:_})  # DQNimb's gamma
best = ICMDPEvalCallback(task.X_val, task.y_val, eval_freq={eval_freq})  # every {eval_freq} x 8 transitions
model.learn(total_timesteps={steps:_}, callback=best)
best.restore_best()  # the weights with the best validation G-mean
pred, _ = model.predict(task.X_test, deterministic=True)
print(f"test G-mean {{g_mean(task.y_test, pred):.3f}}")
'''

PPO_A2C_ON_ICMDP = '''
for algo in ("ppo", "a2c"):  # same env, same callback
    model = make_model(algo, venv, seed=0, gamma=0.1, n_steps=64)
    best = ICMDPEvalCallback(task.X_val, task.y_val, eval_freq={eval_freq})
    model.learn(total_timesteps={steps:_}, callback=best)
    print(f"{{algo}}: best validation G-mean {{best.best_score:.3f}} at step {{best.best_step}}")
'''

IMAGES = '''
venv = make_vec_env("imbalance_gym/ICMDP-v0", n_envs=8, seed=0, dataset="mnist", ratio=0.01)
model = make_model("dqn", venv, seed=0, gamma=0.1)  # uint8 28x28 -> DQNimb's CNN, scaled once
print(type(model.q_net.features_extractor).__name__)  # ImageCNNExtractor
'''

MASKABLE_PPO_ON_AUTOSMOTE = '''
from agents.sb3 import AutoSMOTEMetricCallback, make_model, make_vec_env

venv = make_vec_env("imbalance_gym/AutoSMOTE-v0", n_envs=2, seed=0,
                    dataset="breast_cancer", imbalance_ratio=10, classifier="svm")
model = make_model("maskable_ppo", venv, seed=0, n_steps=256)  # masks: env.action_masks()
search = AutoSMOTEMetricCallback()
model.learn(total_timesteps={steps:_}, callback=search)
rows = search.best_info["synthetic"]  # the best episode's synthetic minority rows
print(f"best validation Macro-F1 {{search.best_score:.3f}} with {{len(rows)}} synthetic rows")
'''

README_BUDGETS = {
    "dqn": dict(learning_starts=1_000, eval_freq=250, steps=20_000),
    "ppo_a2c": dict(eval_freq=250, steps=20_000),
    "autosmote": dict(steps=10_000),
}
TEST_BUDGETS = {
    "dqn": dict(learning_starts=50, eval_freq=20, steps=400),
    "ppo_a2c": dict(eval_freq=20, steps=256),
    "autosmote": dict(steps=1_024),
}


def run(code: str, namespace: dict, capsys) -> str:
    capsys.readouterr()
    exec(compile(code, "<README example>", "exec"), namespace)
    return capsys.readouterr().out


def test_dqn_ppo_a2c_examples_on_the_icmdp(capsys):
    namespace: dict = {}
    out = run(DQN_ON_ICMDP.format(**TEST_BUDGETS["dqn"]), namespace, capsys)
    assert re.fullmatch(r"test G-mean \d\.\d{3}\n", out)
    out = run(PPO_A2C_ON_ICMDP.format(**TEST_BUDGETS["ppo_a2c"]), namespace, capsys)
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["ppo", "a2c"]
    assert all(re.search(r"best validation G-mean \d\.\d{3} at step \d+$", line) for line in lines)


@pytest.mark.data
def test_image_example_picks_the_cnn(capsys, data_home):
    namespace: dict = {}
    run(DQN_ON_ICMDP.split("task =")[0], namespace, capsys)  # the imports
    assert run(IMAGES, namespace, capsys) == "ImageCNNExtractor\n"


def test_maskable_ppo_example_on_autosmote(capsys):
    out = run(MASKABLE_PPO_ON_AUTOSMOTE.format(**TEST_BUDGETS["autosmote"]), {}, capsys)
    assert re.fullmatch(r"best validation Macro-F1 \d\.\d{3} with \d+ synthetic rows\n", out)


def test_readme_budgets_fill_every_placeholder():
    for key, code in (("dqn", DQN_ON_ICMDP), ("ppo_a2c", PPO_A2C_ON_ICMDP),
                      ("autosmote", MASKABLE_PPO_ON_AUTOSMOTE)):
        assert README_BUDGETS[key].keys() == TEST_BUDGETS[key].keys()
        compile(code.format(**README_BUDGETS[key]), "<README example>", "exec")  # KeyError if one is missing
