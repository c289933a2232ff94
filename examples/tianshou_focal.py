"""Tianshou: DQN for one focal agent among 100 others who contribute 8 (600 steps).

Tianshou trains single-agent Gymnasium envs, so it takes the focal face: one learning agent,
the other 99 play the game's reference equilibrium. Against them the best reply is 8 too.
Tianshou's default ``Net`` reads the observation shape: the default ``observe="none"`` gives
``Box(0, 1, (1,))``, which it accepts. Needs ``pip install tianshou`` (tested with 2.0.1).
Run: ``python examples/tianshou_focal.py``.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import torch
from tianshou.algorithm import DQN
from tianshou.algorithm.modelfree.dqn import DiscreteQLearningPolicy
from tianshou.algorithm.optim import AdamOptimizerFactory
from tianshou.data import Collector, CollectStats, VectorReplayBuffer
from tianshou.env import DummyVectorEnv
from tianshou.trainer import OffPolicyTrainerParams
from tianshou.utils.net.common import Net

import populace  # noqa: F401  (registers the games)

ENVS, STEPS = 4, 600


def focal_env() -> gymnasium.Env:
    return gymnasium.make("populace/Contribution-v0", n_agents=100, max_cycles=20)


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)  # tiny networks: one thread is fastest
    env = focal_env()
    net = Net(state_shape=env.observation_space.shape, action_shape=env.action_space.n,
              hidden_sizes=[32])
    policy = DiscreteQLearningPolicy(model=net, action_space=env.action_space,
                                     eps_training=0.5, eps_inference=0.0)
    algorithm = DQN(policy=policy, optim=AdamOptimizerFactory(lr=0.01), gamma=0.0,
                    target_update_freq=0)
    train_envs = DummyVectorEnv([focal_env for _ in range(ENVS)])
    test_envs = DummyVectorEnv([focal_env])
    train_envs.seed(0)
    test_envs.seed(1)
    train = Collector[CollectStats](algorithm, train_envs, VectorReplayBuffer(STEPS, ENVS),
                                    exploration_noise=True)
    test = Collector[CollectStats](algorithm, test_envs)
    algorithm.run_training(OffPolicyTrainerParams(
        training_collector=train, test_collector=test, max_epochs=1, epoch_num_steps=STEPS,
        collection_step_num_env_steps=ENVS * 5, test_step_num_episodes=1, batch_size=64,
        update_step_num_gradient_steps_per_sample=0.5, verbose=False, show_progress=False,
    ))
    q_values = net(np.ones((1, 1), np.float32))[0].detach().numpy()[0]
    stats = test.collect(n_episode=1, reset_before_collect=True)
    print(f"tianshou dqn: greedy contribution {int(q_values.argmax())} (best reply 8), "
          f"test episode return {stats.returns.mean():.0f} over 20 rounds")


if __name__ == "__main__":
    main()
