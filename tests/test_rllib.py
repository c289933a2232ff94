"""RLlib PPO (new API stack, one module shared by every agent) learns on a discrete and a
continuous game through ``ParallelPettingZooEnv``, and renders through the example's workaround.

Runs in the venv ``make test-rllib`` builds (ray[rllib] pins gymnasium 1.2.2); skipped elsewhere.
Each learning check compares the trained module with the same module before training, played
on the same seeds, so a module that does not learn fails it (tested with learning rate 0).
RLlib's training repeats for a fixed ``PYTHONHASHSEED`` but not across hash seeds; the README's
RLlib section gives the margins measured over several.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

pytest.importorskip("ray.rllib", reason="needs ray[rllib]: run `make test-rllib`")

import ray  # noqa: E402
import torch  # noqa: E402
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv  # noqa: E402
from ray.rllib.utils.spaces.space_utils import unsquash_action  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "rllib_population.py"
EVALUATION_SEEDS = range(8)
EVALUATION_AGENTS = 64  # the shared module plays for a larger population: less noise per seed


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rllib_population", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = load_example()


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    torch.set_num_threads(1)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def play(module, game: str, seed: int) -> tuple[np.ndarray, float]:
    """One episode of ``game`` among ``EVALUATION_AGENTS`` agents, each sampling from
    ``module``: the actions sent to the env, ``(rounds, agents, ...)``, and the mean return
    per agent."""
    setup = example.GAMES[game]
    env = ParallelPettingZooEnv(setup.make(n_agents=EVALUATION_AGENTS, max_cycles=example.ROUNDS))
    observations, _ = env.reset(seed=seed)
    agents = list(observations)
    space = env.action_space[agents[0]]
    played, total = [], 0.0
    with torch.random.fork_rng(), torch.no_grad():  # training's random stream stays untouched
        torch.manual_seed(seed)
        while True:
            batch = torch.from_numpy(np.stack([observations[a] for a in agents])).float()
            inputs = module.forward_exploration({"obs": batch})["action_dist_inputs"]
            sampled = module.get_exploration_action_dist_cls().from_logits(inputs).sample()
            actions = unsquash_action(sampled.numpy(), space)
            played.append(actions)
            step = env.step(dict(zip(agents, actions, strict=True)))
            observations, rewards, _, truncations, _ = step
            total += sum(rewards.values()) / len(agents)
            if all(truncations.values()):
                return np.stack(played), total


def train_and_play(game: str, iterations: int, lr: float | None = None) -> tuple[list, list]:
    """``play`` on every evaluation seed, before and after ``iterations`` of PPO on ``game``."""
    algorithm = example.ppo_config(game, lr=lr).build_algo()
    module = algorithm.get_module(example.SHARED)
    before = [play(module, game, seed) for seed in EVALUATION_SEEDS]
    for _ in range(iterations):
        algorithm.train()
    after = [play(algorithm.get_module(example.SHARED), game, seed) for seed in EVALUATION_SEEDS]
    algorithm.stop()
    return before, after


def distance_to_equilibrium(episodes: list) -> float:
    """Mean |contribution − 8| over every agent and round: 8 is the best reply to uniform play
    (KFH §4, ``EQUILIBRIUM_ACTION``); uniform play itself is about 5 away."""
    target = example.contribution_v0.EQUILIBRIUM_ACTION
    return float(np.mean([np.abs(actions - target).mean() for actions, _ in episodes]))


def moved_toward_equilibrium(before: list, after: list) -> bool:
    """The population ends less than half as far from the equilibrium as it started."""
    return distance_to_equilibrium(after) < 0.5 * distance_to_equilibrium(before)


def return_rose(before: list, after: list) -> bool:
    """On the same seeds, the mean return per agent rose by more than three standard errors
    of the paired differences."""
    pairs = zip(after, before, strict=True)
    gains = np.array([trained - untrained for (_, trained), (_, untrained) in pairs])
    return bool(gains.mean() > 3 * gains.std(ddof=1) / np.sqrt(len(gains)))


def test_ppo_moves_toward_the_contribution_equilibrium():
    before, after = train_and_play("contribution", iterations=6)
    assert distance_to_equilibrium(before) > 4.0
    assert moved_toward_equilibrium(before, after), distance_to_equilibrium(after)


def test_ppo_raises_the_mean_field_lqr_return():
    before, after = train_and_play("mf_lqr", iterations=6)
    assert return_rose(before, after), [episode[1] for episode in before + after]


@pytest.mark.parametrize("game, learned", [("contribution", moved_toward_equilibrium),
                                           ("mf_lqr", return_rose)])
def test_a_module_that_does_not_learn_fails_the_checks(game, learned):
    """The same PPO with learning rate 0 leaves the module as it was."""
    assert not learned(*train_and_play(game, iterations=1, lr=0.0))


def test_rendering_through_rllibs_wrapper():
    """RLlib's own wrapper passes the mode to ``render()``, which PettingZoo's API refuses;
    the example's subclass renders an RGB frame."""
    game = example.GAMES["contribution"].make(n_agents=3, render_mode="rgb_array")
    plain = ParallelPettingZooEnv(game)
    with pytest.raises(TypeError):
        plain.render()
    env = example.make_env({"game": "contribution", "render_mode": "rgb_array"})
    env.reset(seed=0)
    env.step({agent: 8 for agent in env.agents})
    frame = env.render()
    assert isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.dtype == np.uint8 and frame.std() > 0
