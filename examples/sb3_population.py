"""PPO with one network shared by 100 agents of the contribution game.

Needs the baselines extra (torch first, on its own, then stable-baselines3 and supersuit):
``pip install torch==2.13.0 && pip install -e ".[baselines,plot]"``, or ``make install``.
Run: ``python examples/sb3_population.py``.

Three ways to train the same population, all scored by the game's own distance from the
equilibrium (everyone contributes 8): d(ρ) = Σ_a ρ(a)·|a − 8|; uniform play scores 5.1.
"""

from __future__ import annotations

import time

import torch
from stable_baselines3 import PPO

from populace.agents.sb3.learner import SB3Learner
from populace.agents.sb3.vec_env import PopulationVecEnv, supersuit_vec_env
from populace.envs import contribution_v0
from populace.envs.anonymous.contribution import ContributionCore
from populace.train import train

torch.set_num_threads(1)  # small MLPs: one CPU thread is fastest
ROUNDS = 500  # population steps: 500 × 100 agents = 50,000 agent-steps


def distance_of(learner: SB3Learner, core: ContributionCore) -> float:
    return float(core.distance(learner.policy().mean(axis=0)))


def main() -> None:
    # 1. Populace's train loop drives PPO through act/update, like any paper learner.
    core = ContributionCore(n_agents=100, payoff="average")
    learner = SB3Learner.for_game(core, seed=0, algorithm="ppo", total_rounds=ROUNDS,
                                  gamma=0.0, reward_scale=0.01)
    result = train(core, learner, ROUNDS, seed=0, window=100, progress=False)
    print("train loop :", result.summary())
    print(f"             policy distance {distance_of(learner, core):.3f}")

    # 2. SB3's own learn() on the population VecEnv (one SB3 slot per agent).
    core = ContributionCore(n_agents=100, payoff="average")
    learner = SB3Learner(core, "ppo", seed=0, gamma=0.0, reward_scale=0.01).learn(ROUNDS)
    print(f"SB3 learn  : policy distance {distance_of(learner, core):.3f}")

    # 3. Plain SB3 on an SB3 VecEnv: the PettingZoo env through SuperSuit (seed= and
    #    truncation fixed), or PopulationVecEnv over the array core, whose step costs 20-60×
    #    less; at N=100 PPO's own work dominates either way.
    for name, venv in (
        ("SuperSuit ", supersuit_vec_env(contribution_v0.parallel_env(n_agents=100))),
        ("VecEnv    ", PopulationVecEnv(ContributionCore(n_agents=100))),
    ):
        model = PPO("MlpPolicy", venv, seed=0, gamma=0.0, n_steps=32, batch_size=800,
                    device="cpu")
        start = time.perf_counter()
        model.learn(total_timesteps=12_800)
        rate = 12_800 / (time.perf_counter() - start)
        print(f"{name} : plain SB3 PPO, {rate:,.0f} agent-steps/s including training")


if __name__ == "__main__":
    main()
