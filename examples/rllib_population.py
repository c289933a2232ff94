"""RLlib (new API stack): PPO with one module shared by every agent, on a discrete game
(contribution, ``observe="population"``) and a continuous one (the mean-field LQR).

RLlib's ``ParallelPettingZooEnv`` takes the PettingZoo face as it is and every agent maps to the
same module ("parameter sharing"). Its ``render()`` passes the render mode to the PettingZoo
env, whose ``render()`` takes none: :class:`RenderableParallelPettingZooEnv` below is the
workaround. Needs the ``rllib`` extra (``make test-rllib`` builds a venv with it: ray 2.60 pins
gymnasium 1.2.2) and starts a local Ray instance.
Run: ``python examples/rllib_population.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import ray
import torch
from pettingzoo import ParallelEnv
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
from ray.tune.registry import register_env

from populace.envs import contribution_v0, mf_lqr_v0

AGENTS, ROUNDS, ITERATIONS = 8, 25, 2
SHARED = "shared"


class RenderableParallelPettingZooEnv(ParallelPettingZooEnv):
    """``ParallelPettingZooEnv`` that renders the way PettingZoo's API asks.

    RLlib 2.60's ``ParallelPettingZooEnv.render()`` calls ``self.par_env.render(self.render_mode)``
    (``ray/rllib/env/wrappers/pettingzoo_env.py``, line 226), but a PettingZoo ``render()``
    takes no argument: the mode is fixed when the env is made. This subclass calls it that way
    and reports the wrapped env's mode as its own.
    """

    def __init__(self, env: ParallelEnv) -> None:
        super().__init__(env)
        self.render_mode = env.render_mode

    def render(self) -> Any:
        return self.par_env.render()


class Setup(NamedTuple):
    """How to make a game, and the discount and learning rate PPO trains on it with."""

    make: Callable[..., ParallelEnv]
    gamma: float
    lr: float


# A contribution round is a one-shot game (no discount); the LQR's positions carry over. At
# 3e-3 PPO's first iterations on the LQR make the return worse, at 1e-3 they improve it.
GAMES = {
    "contribution": Setup(lambda **kw: contribution_v0.parallel_env(observe="population", **kw),
                          gamma=0.0, lr=3e-3),
    "mf_lqr": Setup(mf_lqr_v0.parallel_env, gamma=0.9, lr=1e-3),
}


def make_env(config: dict) -> RenderableParallelPettingZooEnv:
    """One of :data:`GAMES`, wrapped for RLlib (``config``: ``game``, optional ``render_mode``)."""
    make = GAMES[config["game"]].make
    game = make(n_agents=AGENTS, max_cycles=ROUNDS, render_mode=config.get("render_mode"))
    return RenderableParallelPettingZooEnv(game)


def ppo_config(game: str, *, seed: int = 0, lr: float | None = None) -> PPOConfig:
    """PPO sharing one default module between all agents of ``game``, sampling in-process
    (``lr``: the game's own learning rate when None)."""
    setup = GAMES[game]
    register_env("populace", make_env)
    return (
        PPOConfig()
        .environment("populace", env_config={"game": game})
        .env_runners(num_env_runners=0)
        .multi_agent(policies={SHARED}, policy_mapping_fn=lambda agent, *_, **__: SHARED)
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={SHARED: RLModuleSpec()}))
        .training(train_batch_size=2 * AGENTS * ROUNDS, minibatch_size=AGENTS * ROUNDS,
                  num_epochs=2, gamma=setup.gamma, lr=setup.lr if lr is None else lr)
        .debugging(seed=seed)
    )


def main() -> None:
    torch.set_num_threads(1)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    for game in GAMES:
        algorithm = ppo_config(game).build_algo()
        for _ in range(ITERATIONS):
            result = algorithm.train()
        returns = result["env_runners"]["agent_episode_returns_mean"]
        print(f"rllib ppo on {game}: {len(returns)} agents trained, mean episode return "
              f"{sum(returns.values()) / len(returns):.2f} over {ROUNDS} rounds")
        algorithm.stop()
    ray.shutdown()


if __name__ == "__main__":
    main()
