"""Create a game through each face, then train a population of KFH stage learners on it.

Run: python examples/quickstart.py
"""

import gymnasium
import numpy as np
import pettingzoo

import populace  # noqa: F401  (registers the games)
from populace.agents import make_learner
from populace.envs import contribution_v0
from populace.train import train

# PettingZoo: dicts keyed by agent name.
parallel = pettingzoo.make("parallel", "populace/contribution_v0", n_agents=5)
observations, infos = parallel.reset(seed=0)
_, rewards, _, _, _ = parallel.step({agent: 8 for agent in parallel.agents})
print("everyone contributes 8:", rewards)

# Gymnasium focal view: one agent among 1000 whose others play the equilibrium.
focal = gymnasium.make("populace/Contribution-v0", n_agents=1000)
focal.reset(seed=0)
print("focal best reply 8 earns", focal.step(8)[1], "; deviating to 9 earns", focal.step(9)[1])

# Gymnasium population view: one slot per agent.
population = gymnasium.make_vec(
    "populace/Contribution-v0", num_envs=1000, vectorization_mode="vector_entry_point"
)
population.reset(seed=0)
_, rewards, *_ = population.step(np.full(1000, 8))
print("population view rewards", rewards[:3], "...")

# Train 100 stage learners (KFH §3.3) and score them with the paper's distance metric.
core = contribution_v0.ContributionCore(n_agents=100, payoff="average")
learner = make_learner("stage", core, seed=1, epsilon=0.05, tau=250)
result = train(core, learner, rounds=3000, seed=0, window=250)
print(result.summary())
