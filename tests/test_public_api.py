"""Every public import path and id that worked before the game families became packages
still works: the names below were listed from the flat layout (each ``<game>_v0`` module's
own definitions, ``populace.agents.__all__``, ``populace.train.__all__``, the registry)."""

from __future__ import annotations

import importlib
from importlib.util import find_spec

import gymnasium
import pettingzoo
import pytest

import populace  # noqa: F401  (registers the ids)
from populace.cli import build_parser

FACES = ["raw_env", "parallel_env", "env", "focal_env", "vector_env"]

GAME_NAMES: dict[str, list[str]] = {
    "contribution_v0": ["N_ACTIONS", "EQUILIBRIUM_ACTION", "contribution_cost",
                        "ContributionCore"],
    "congestion_v0": ["N_ACTIONS", "DEFAULT_ALPHA", "MECHANISMS", "PAYOFF_MODES", "Cost",
                      "quadratic_cost", "acp_cost_shares", "serial_cost_shares", "share_table",
                      "payoff_matrix", "symmetric_equilibrium", "CongestionCore"],
    "matrix_v0": ["CLIMBING", "Preset", "PRESETS", "resolve_game", "reference_for",
                  "MatrixCore"],
    "zspg_network_v0": ["FEEDBACK_MODES", "SIMPLEX_ATOL", "KL_FLOOR", "Simplex",
                        "ZSPGNetworkCore", "row_dots", "check_simplex", "ZSPGMetrics"],
    "mf_lqr_v0": ["DIMENSION", "check_point", "as_plane", "plane_mean", "squared_norms",
                  "MFLQRCore"],
    "spatial_congestion_v0": ["DIMENSION", "REWARDS", "CENTRES", "SpatialCongestionCore"],
    "supply_demand_v0": ["DIMENSION", "SupplyDemandCore", "SupplyDemandMetrics"],
    "warehouse_v0": ["DEFAULT_K", "NASH_ROLLOUTS", "SAMPLED_K", "WarehouseCore", "draw",
                     "WarehouseMetrics", "table_of", "robot_observations", "check_rows"],
    "warehouse_continuous_v0": ["LIMIT", "BINS", "EDGES", "TARGETS", "MOVES", "STEER",
                                "GLOBAL_NOISE", "LOCAL_NOISE", "GLOBAL_SCALE", "GLOBAL_WIDTH",
                                "LOCAL_SCALE", "LOCAL_WIDTH", "MOVE_COST", "MAJORITY",
                                "CLUSTER_WIDTH", "ContinuousModel", "bin_shares",
                                "WarehouseContinuousCore", "local_reward", "global_reward",
                                "ContinuousMetrics"],
}

GYMNASIUM_IDS = {
    "congestion_v0": "Congestion-v0", "contribution_v0": "Contribution-v0",
    "matrix_v0": "Matrix-v0", "mf_lqr_v0": "MFLQR-v0",
    "spatial_congestion_v0": "SpatialCongestion-v0", "supply_demand_v0": "SupplyDemand-v0",
    "warehouse_continuous_v0": "WarehouseContinuous-v0", "warehouse_v0": "Warehouse-v0",
    "zspg_network_v0": "ZSPGNetwork-v0",
}

AGENTS = ["AlternatingMARL", "BASELINES", "LEARNERS", "Learner", "MultiGroupLearner",
          "RegretMatching", "SmoothQLearner", "StageLearner", "TORCH_LEARNERS", "TabularLearner",
          "Transition", "learner_class", "learner_options", "make_learner", "mu_from_bounds"]
TRAIN = ["CSVLogger", "Callback", "EarlyStopping", "FunctionCallback", "History", "MetricsRow",
         "ProgressBar", "RunContext", "RunFolder", "Timings", "TrainResult", "load_checkpoint",
         "save_checkpoint", "train", "unwrap_core"]
COMMANDS = ["list", "train", "compare", "reproduce", "sweep", "finite-n", "bench"]


@pytest.mark.parametrize("game", sorted(GAME_NAMES))
def test_every_game_module_keeps_its_names(game):
    module = importlib.import_module(f"populace.envs.{game}")
    from_package = getattr(importlib.import_module("populace.envs"), game)
    assert from_package is module
    missing = [name for name in GAME_NAMES[game] + FACES if not hasattr(module, name)]
    assert not missing, f"populace.envs.{game} lost {missing}"


@pytest.mark.parametrize("game", sorted(GYMNASIUM_IDS))
def test_every_id_is_registered(game):
    assert f"populace/{GYMNASIUM_IDS[game]}" in gymnasium.registry
    assert f"populace/{game.replace('_v', '-v')}" in pettingzoo.parallel_registry


def test_the_learners_and_the_loop_keep_their_names():
    agents = importlib.import_module("populace.agents")
    train = importlib.import_module("populace.train")
    assert not [name for name in AGENTS if not hasattr(agents, name)]
    assert not [name for name in TRAIN if not hasattr(train, name)]
    if find_spec("torch") is not None:
        assert agents.ActorCriticFictitiousPlay.__name__ == "ActorCriticFictitiousPlay"


def test_every_command_is_there():
    commands = build_parser()._subparsers._group_actions[0].choices
    assert set(COMMANDS) <= set(commands)
