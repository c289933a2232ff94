"""RLlib (new API stack): PPO with one module shared by 8 agents, two iterations of 200 steps.

RLlib's ``ParallelPettingZooEnv`` takes the PettingZoo face as it is; every agent maps to the
same module ("parameter sharing"). The default ``observe="none"`` gives ``Box(0, 1, (1,))``
observations, which RLlib's default encoders accept. Needs ``pip install "ray[rllib]"`` (tested
with ray 2.60, whose pins need gymnasium 1.2.x) and starts a local Ray instance.
Run: ``python examples/rllib_population.py``.
"""

from __future__ import annotations

import ray
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
from ray.tune.registry import register_env

from populace.envs import contribution_v0

AGENTS, ROUNDS, ITERATIONS = 8, 25, 2  # 8 agents × 25 rounds = 200 agent-steps a batch


def make_env(config: dict) -> ParallelPettingZooEnv:
    return ParallelPettingZooEnv(contribution_v0.parallel_env(n_agents=AGENTS, max_cycles=ROUNDS))


def main() -> None:
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    register_env("contribution", make_env)
    config = (
        PPOConfig()
        .environment("contribution")
        .env_runners(num_env_runners=0)  # sample in this process
        .multi_agent(policies={"shared"}, policy_mapping_fn=lambda agent, *_, **__: "shared")
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={"shared": RLModuleSpec()}))
        .training(train_batch_size=AGENTS * ROUNDS, minibatch_size=AGENTS * ROUNDS // 2,
                  num_epochs=1, gamma=0.0, lr=1e-3)
        .debugging(seed=0)
    )
    algorithm = config.build_algo()
    for _ in range(ITERATIONS):
        result = algorithm.train()
    returns = result["env_runners"]["agent_episode_returns_mean"]
    print(f"rllib ppo: {len(returns)} agents trained, mean episode return "
          f"{sum(returns.values()) / len(returns):.0f} over {ROUNDS} rounds")
    algorithm.stop()
    ray.shutdown()


if __name__ == "__main__":
    main()
