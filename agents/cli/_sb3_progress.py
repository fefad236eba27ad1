"""A tqdm progress bar for SB3's ``learn`` (SB3's own bar needs the ``rich`` package)."""

from __future__ import annotations

from stable_baselines3.common.callbacks import BaseCallback
from tqdm.auto import tqdm


class ProgressCallback(BaseCallback):
    """A tqdm bar over transitions that also ends training exactly at ``target``.

    SB3's on-policy algorithms would otherwise finish their last rollout and overshoot
    the target by up to ``n_steps * n_envs``; stopping at it keeps ``--steps`` a total
    that a resumed run continues towards.

    Args:
        target: transitions the run should reach (over its whole life).
        start: transitions already done (a resumed run).
        desc: the bar's label.
        show: False hides the bar (``--no-progress``).
    """

    def __init__(self, target: int, start: int, desc: str, show: bool):
        super().__init__()
        self.target = target
        self.bar = tqdm(total=target, initial=start, unit="step", desc=desc, disable=not show,
                        dynamic_ncols=True)

    def _on_step(self) -> bool:
        self.bar.update(self.num_timesteps - self.bar.n)
        return self.num_timesteps < self.target

    def close(self) -> None:
        self.bar.close()
