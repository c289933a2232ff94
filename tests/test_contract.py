"""The contract every game and learner shares: declared parameters, learner construction, the
layout of the package. (Faces and the loop on a two-group game: test_conformance, test_multigroup.)
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pytest

from populace.agents import LEARNERS, Transition, learner_options, make_learner
from populace.envs.anonymous.contribution import ContributionCore
from populace.envs.anonymous.core import AnonymousGameCore
from populace.envs.policies import as_policy
from populace.envs.registry import GAMES, core_class, make_core

ROOT = Path(__file__).resolve().parent.parent


def test_cores_record_the_parameters_they_were_built_with(module_name):
    cls = core_class(module_name)
    core = cls()
    declared = {
        name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    }
    assert set(core.params) == set(declared)
    for name, default in declared.items():
        assert core.params[name] == default or np.array_equal(core.params[name], default)
    assert make_core(module_name, n_agents=7).params["n_agents"] == 7


def test_unknown_game_and_keyword_are_named():
    with pytest.raises(ValueError, match="unknown game 'nope'"):
        make_core("nope")
    with pytest.raises(TypeError, match=re.escape("unknown keyword arguments ['n_agent']")):
        make_core("contribution_v0", n_agent=3)


def test_make_learner_options_come_from_the_constructors():
    assert learner_options(LEARNERS["stage"]) == ["epsilon", "tau", "use_statistics"]
    assert learner_options(LEARNERS["regret"]) == [
        "mu", "delta", "gamma", "discount", "baseline", "mu_rule"
    ]
    core = ContributionCore(n_agents=5)
    with pytest.raises(ValueError, match=r"it accepts \['epsilon', 'tau', 'use_statistics'\]"):
        make_learner("stage", core, epsilon=0.1, tau=10, eps=0.1)
    with pytest.raises(ValueError, match="give mu or mu_rule, not both"):
        make_learner("regret", core, mu=1.0, mu_rule="hart-mas-colell")


def test_make_learner_binds_the_group():
    core = ContributionCore(n_agents=5)
    learner = make_learner("stage", core, group="agent", seed=0)
    assert learner.group == "agent" and learner.n_agents == 5 and learner.action_space.n == 20
    with pytest.raises(KeyError, match="no group named 'robot'"):
        make_learner("stage", core, group="robot")


def test_learners_declare_the_extras_they_use():
    core = ContributionCore(n_agents=4, observe="population")
    plain = make_learner("stage", core, seed=0)
    statistics = make_learner("stage", core, seed=0, use_statistics=True)
    assert plain.extras == () and statistics.extras == ("payoff_estimates",)
    assert core.learner_extras() == ("payoff_estimates",)
    assert ContributionCore(n_agents=4).learner_extras() == ()
    with pytest.raises(ValueError, match="needs the extra 'payoff_estimates'"):
        statistics.update(Transition.of_round(np.zeros(4, dtype=int), np.zeros(4)))


def test_default_policy_is_a_declared_hook(module_name):
    core = make_core(module_name, n_agents=4)
    if isinstance(core, AnonymousGameCore):  # anonymous games play their equilibrium
        np.testing.assert_array_equal(core.default_policy("agent"), core.reference_equilibrium())
    for group in core.groups:  # every group's default is a policy the faces accept
        as_policy(core.default_policy(group.name), group.action_space, group.size, "default")
    with pytest.raises(KeyError, match="no group named"):
        core.default_policy("nobody")
    if not PLANNABLE.get(module_name, False):
        with pytest.raises(NotImplementedError, match="no model"):
            core.model()


# games whose core offers model() to planners
PLANNABLE = {"warehouse_v0": True, "warehouse_continuous_v0": True}


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=False)


def test_package_imports_from_the_repository_root():
    assert not (ROOT / "populace").exists(), "the root package lives in src/populace"
    done = _python("import populace.envs, populace.agents, populace.train; "
                   f"assert set({sorted(GAMES)!r}) <= set(populace.envs.__all__)")
    assert done.returncode == 0, done.stderr


def test_learners_do_not_import_the_train_loop():
    done = _python("import sys, populace.agents; "
                   "assert not [m for m in sys.modules if m.startswith('populace.train')]")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("module, gym_name", sorted(GAMES.items()))
def test_gymnasium_faces_carry_the_games_own_docstring(module, gym_name):
    game_docs = core_class(module).__doc__
    assert game_docs and "## Description" in game_docs  # Gymnasium's docstring format
    focal = gymnasium.make(f"populace/{gym_name}")
    assert focal.unwrapped.__doc__ == game_docs
    focal.close()
    vector = gymnasium.make_vec(f"populace/{gym_name}", num_envs=4)
    assert vector.unwrapped.__doc__ == game_docs
    vector.close()
    entry = importlib.import_module(f"populace.envs.{module}")
    for face in (entry.raw_env, entry.parallel_env, entry.env, entry.focal_env,
                 entry.vector_env):
        assert face.__doc__ == game_docs, face
