"""TorchRL: one shared policy for a population of 32, trained with PPO for 640 agent-steps.

TorchRL's ``GymWrapper`` takes the Gymnasium vector face (one slot per agent) as a batched
env; it needs ``autoreset_mode="SameStep"``. Its ``PettingZooWrapper`` takes the PettingZoo
face as it is. Needs ``pip install torchrl`` (tested with torchrl 0.14, torch 2.13).
Run: ``python examples/torchrl_population.py``.
"""

from __future__ import annotations

import gymnasium
import torch
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.collectors import Collector
from torchrl.envs import GymWrapper, PettingZooWrapper
from torchrl.envs.utils import check_env_specs
from torchrl.modules import OneHotCategorical, ProbabilisticActor, ValueOperator
from torchrl.objectives import ClipPPOLoss
from torchrl.objectives.value import GAE

import populace  # noqa: F401  (registers the games)
from populace.envs import contribution_v0

AGENTS, ROUNDS, ITERATIONS = 32, 10, 2  # 32 × 10 × 2 = 640 agent-steps


def population_env() -> GymWrapper:
    """The vector face as one batched TorchRL env: batch size = the population."""
    vector = gymnasium.make_vec("populace/Contribution-v0", num_envs=AGENTS,
                                vectorization_mode="vector_entry_point",
                                autoreset_mode="SameStep", max_cycles=ROUNDS)
    return GymWrapper(vector)


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)  # tiny networks: one thread is fastest
    env = population_env()
    check_env_specs(env)
    n_observed = env.observation_spec["observation"].shape[-1]  # 1: observe="none"
    n_actions = env.action_spec.shape[-1]  # actions are one-hot
    actor = ProbabilisticActor(
        TensorDictModule(nn.Linear(n_observed, n_actions), in_keys=["observation"],
                         out_keys=["logits"]),
        in_keys=["logits"], spec=env.action_spec, distribution_class=OneHotCategorical,
        return_log_prob=True,
    )
    critic = ValueOperator(nn.Linear(n_observed, 1), in_keys=["observation"])
    collector = Collector(env, actor, frames_per_batch=AGENTS * ROUNDS,
                          total_frames=AGENTS * ROUNDS * ITERATIONS,
                          auto_register_policy_transforms=False)
    loss = ClipPPOLoss(actor, critic)
    advantage = GAE(gamma=0.0, lmbda=1.0, value_network=critic)
    optimizer = torch.optim.Adam(loss.parameters(), lr=0.05)
    for batch in collector:
        advantage(batch)
        losses = loss(batch)
        (losses["loss_objective"] + losses["loss_critic"] + losses["loss_entropy"]).backward()
        optimizer.step()
        optimizer.zero_grad()
        mean = batch["next", "reward"].mean().item()
        print(f"torchrl ppo: {batch.numel()} agent-steps, mean reward {mean:.1f}")
    collector.shutdown()

    # The PettingZoo face works too: one TorchRL group holding every agent.
    parallel = PettingZooWrapper(contribution_v0.parallel_env(n_agents=4, max_cycles=3),
                                 use_mask=False)
    check_env_specs(parallel)
    rollout = parallel.rollout(3)
    print(f"torchrl pettingzoo rollout: {rollout.shape[0]} rounds of "
          f"{rollout['agent', 'action'].shape[1]} agents")


if __name__ == "__main__":
    main()
