"""The train loop: metrics windows, callbacks, run folders, checkpoints and exact resume.

The loop is tested against :class:`TinyStage`, a small stage learner defined here (it draws
from its generator every round, so a resume that lost any state would show up at once).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from populace.agents.base import TabularLearner, Transition
from populace.envs.anonymous.contribution import ContributionCore
from populace.envs.anonymous.matrix import MatrixCore
from populace.train import (
    Callback,
    EarlyStopping,
    History,
    MetricsRow,
    ProgressBar,
    TrainResult,
    load_checkpoint,
    train,
)
from populace.train.checkpoint import join_state, split_state

N = 20


class TinyStage(TabularLearner):
    """Each agent plays its current action (or explores w.p. ``epsilon``) and, every ``tau``
    rounds, switches to the action with the best average payoff it saw in that stage."""

    def __init__(
        self, n_agents: int, n_actions: int, *, epsilon: float = 0.2, tau: int = 15,
        use_statistics: bool = False, seed: int | None = None,
    ) -> None:
        super().__init__(n_agents, n_actions, seed=seed)
        self.epsilon, self.tau = epsilon, tau
        self.uses_statistics = use_statistics
        self.extras = ("payoff_estimates",) if use_statistics else ()
        self.current = self.rng.integers(n_actions, size=n_agents)
        self.totals = np.zeros((n_agents, n_actions))
        self.plays = np.zeros((n_agents, n_actions))
        self.t = 0
        self.seen_estimates: list[np.ndarray] = []

    def act(self, observations: np.ndarray | None = None) -> np.ndarray:
        explore = self.rng.random(self.n_agents) < self.epsilon
        other = self.rng.integers(self.n_actions, size=self.n_agents)
        return np.where(explore, other, self.current).astype(np.int64)

    def update(self, transition: Transition) -> None:
        actions, rewards = transition.actions, transition.rewards
        payoff_estimates = transition.extras.get("payoff_estimates")
        if self.uses_statistics:
            assert payoff_estimates is not None
            self.seen_estimates.append(payoff_estimates)
            self.totals += payoff_estimates
            self.plays += 1
        else:
            agents = np.arange(self.n_agents)
            np.add.at(self.totals, (agents, actions), rewards)
            self.plays[agents, actions] += 1
        self.t += 1
        if self.t % self.tau == 0:
            means = np.where(self.plays > 0, self.totals / np.maximum(self.plays, 1), -np.inf)
            self.current = means.argmax(axis=1)
            self.totals[:] = 0
            self.plays[:] = 0

    def policy(self) -> np.ndarray:
        p = np.full((self.n_agents, self.n_actions), self.epsilon / self.n_actions)
        p[np.arange(self.n_agents), self.current] += 1 - self.epsilon
        return p

    def config(self) -> dict[str, Any]:
        return {**super().config(), "epsilon": self.epsilon, "tau": self.tau,
                "use_statistics": self.uses_statistics}

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"current": self.current, "totals": self.totals, "plays": self.plays,
                "t": np.asarray(self.t)}

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.current = arrays["current"].copy()
        self.totals = arrays["totals"].copy()
        self.plays = arrays["plays"].copy()
        self.t = int(arrays["t"])


class Fixed(TinyStage):
    """Everyone always plays ``action`` (no exploration)."""

    def __init__(self, n_agents: int, n_actions: int, action: int = 8) -> None:
        super().__init__(n_agents, n_actions, epsilon=0.0, tau=10**9, seed=0)
        self.current[:] = action


def contribution(**kwargs: Any) -> ContributionCore:
    return ContributionCore(**{"n_agents": N, **kwargs})


def learner_for(core: Any, **kwargs: Any) -> TinyStage:
    return TinyStage(core.n_agents, core.n_actions, seed=7, **kwargs)


def same_history(a: History, b: History) -> None:
    assert a.columns == b.columns
    for name in (c for c in a.columns if c != "time"):  # wall time differs between runs
        np.testing.assert_array_equal(a.column(name), b.column(name), err_msg=name)


# ----------------------------------------------------------------------------- metrics
def test_one_row_per_window_and_result_fields():
    core = contribution()
    result = train(core, learner_for(core), rounds=1000, seed=0, window=100, progress=False)
    assert isinstance(result, TrainResult) and not result.stopped_early
    assert result.rounds == 1000 and len(result.history) == 10
    np.testing.assert_array_equal(result.history.round, np.arange(100, 1001, 100))
    assert result.history.round.dtype == np.int64 and result.history.distance.dtype == np.float64
    rows = result.history.as_rows()
    assert all(isinstance(r, MetricsRow) for r in rows) and rows[-1].round == 1000
    assert result.history.final("distance") == rows[-1]["distance"]
    assert result.history.columns == (
        "round", "episodes", "distance", "exploitability", "modal_action", "modal_share",
        "reward/agent", "time",
    )
    assert result.history.modal_action.dtype == np.int64
    assert result.policy.shape == (N, 20) and list(result.policies) == ["agent"]
    assert result.episodes == 1 and result.history.final("episodes") == 1  # max_cycles=1000
    assert result.run_dir is None
    t = result.timings
    assert t.rounds == 1000 and t.seconds > 0
    assert t.agent_rounds_per_second == pytest.approx(N * t.rounds_per_second)
    assert np.all(np.diff(result.history.time) >= 0)
    assert "1000 rounds" in result.summary()
    with pytest.raises(KeyError, match="unknown metric"):
        result.history.column("nope")


def test_window_metrics_match_the_played_actions():
    core = contribution()
    seen: list[np.ndarray] = []

    class Record(Callback):
        def on_window(self, row):
            seen.append(row)

    result = train(core, Fixed(N, 20, action=5), rounds=300, window=100, callbacks=[Record()],
                   progress=False)
    assert len(seen) == 3
    row = result.history.as_rows()[-1]
    assert row["distance"] == pytest.approx(3.0)  # |5 - 8|
    assert row["modal_action"] == 5 and row["modal_share"] == 1.0
    payoffs = core.expected_payoffs(np.eye(20)[5])
    assert row["exploitability"] == pytest.approx(payoffs.max() - payoffs[5])
    assert row["reward/agent"] == pytest.approx(2 * 5 * 5 - 16)  # 2xy - (x-1)^2
    assert seen[-1] == row


def test_partial_last_window_is_not_recorded_and_rounds_cross_episodes():
    core = contribution(max_cycles=70)
    result = train(core, learner_for(core), rounds=250, window=100, progress=False)
    assert result.rounds == 250 and list(result.history.round) == [100, 200]
    with pytest.raises(ValueError, match="window=100 is longer than the budget rounds=30"):
        train(contribution(), learner_for(contribution()), rounds=30, window=100,
              progress=False)  # it would record no row
    assert result.episodes == 3 and list(result.history.episodes) == [1, 2]


def test_faces_are_unwrapped_to_the_same_run():
    import gymnasium

    import populace  # noqa: F401
    from populace.envs import contribution_v0

    reference = train(contribution(), learner_for(contribution()), rounds=200, window=50,
                      progress=False)
    faces = [
        contribution_v0.parallel_env(n_agents=N),
        contribution_v0.vector_env(num_envs=N),
    ]
    for env in faces:
        result = train(env, learner_for(contribution()), rounds=200, window=50, progress=False)
        same_history(result.history, reference.history)
    focal = gymnasium.make("populace/Contribution-v0", n_agents=N)  # its policy can't apply
    with pytest.raises(TypeError, match="focal view"):
        train(focal, learner_for(contribution()), rounds=200, window=50, progress=False)


def test_population_statistics_are_computed_once_and_broadcast():
    core = contribution(observe="population")
    learner = learner_for(core, use_statistics=True)
    train(core, learner, rounds=5, window=5, progress=False)
    estimates = learner.seen_estimates[-1]
    assert estimates.shape == (N, 20) and estimates.strides[0] == 0
    frequencies = core.last_counts / N
    np.testing.assert_allclose(estimates[3], core.expected_payoffs(frequencies), rtol=1e-6)


# ----------------------------------------------------------------------------- callbacks
def test_early_stopping_after_patience_windows():
    core = contribution()
    stop = EarlyStopping("distance", threshold=0.0, patience=3)
    result = train(core, Fixed(N, 20), rounds=5000, window=100, callbacks=[stop], progress=False)
    assert result.stopped_early and result.rounds == 300 and len(result.history) == 3


def test_early_stopping_streak_survives_a_resume(tmp_path):
    stop = EarlyStopping("distance", threshold=0.0, patience=3)
    first = train(contribution(), Fixed(N, 20), rounds=200, window=100, out_dir=tmp_path,
                  callbacks=[stop], progress=False)
    assert not first.stopped_early
    resumed = train(contribution(), Fixed(N, 20), rounds=5000, window=100, out_dir=tmp_path,
                    resume=True, callbacks=[stop], progress=False)
    assert resumed.stopped_early and resumed.rounds == 300


def test_plain_function_callback_and_hooks_order():
    events: list[str] = []

    class Hooks(Callback):
        def on_start(self, context):
            events.append(f"start {context.start}/{context.budget} {context.unit}")

        def on_end(self, result):
            events.append(f"end {result.rounds}")

    result = train(contribution(), learner_for(contribution()), rounds=1000, window=100,
                   callbacks=[Hooks(), lambda row: row.round >= 200], progress=False)
    assert result.stopped_early and result.rounds == 200
    assert events == ["start 0/1000 rounds", "end 200"]


def test_early_stopping_rejects_unknown_metric():
    with pytest.raises(ValueError, match="unknown metric"):
        train(contribution(), learner_for(contribution()), rounds=100, window=50,
              callbacks=[EarlyStopping("nope", threshold=1.0)], progress=False)


def test_progress_bar_draws_when_forced_and_not_when_disabled(capsys):
    stream = io.StringIO()
    train(contribution(), learner_for(contribution()), rounds=300, window=100,
          callbacks=[ProgressBar(stream=stream, force=True)])
    text = stream.getvalue()
    assert "300/300" in text and "distance" in text and text.endswith("\n")
    for progress in (False, None):  # None: only on a terminal, and stderr is captured here
        train(contribution(), learner_for(contribution()), rounds=300, window=100,
              progress=progress)
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------- run folders
def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_run_folder_config_and_csv(tmp_path):
    core = contribution(payoff="matching")
    learner = learner_for(core)
    result = train(core, learner, rounds=600, seed=3, window=100, out_dir=tmp_path / "run",
                   progress=False)
    run = tmp_path / "run"
    assert result.run_dir == run
    config = json.loads((run / "config.json").read_text())
    assert config["env"]["name"] == "contribution_v0"
    assert config["env"]["kwargs"]["n_agents"] == N
    assert config["env"]["kwargs"]["payoff"] == "matching"
    assert config["env"]["kwargs"]["cost_offset"] is None  # declared defaults are recorded
    assert config["learners"]["agent"]["config"] == learner.config()
    assert (config["seed"], config["window"], config["rounds"]) == (3, 100, 600)
    assert config["unit"] == "rounds" and config["fixed_groups"] == []
    rows = read_csv(run / "metrics.csv")
    assert tuple(rows[0]) == result.history.columns and len(rows) == 6
    for name in result.history.columns:
        parsed = np.array([float(r[name]) for r in rows])
        np.testing.assert_array_equal(parsed, result.history.column(name))


def test_existing_run_is_not_overwritten_silently(tmp_path):
    core = contribution()
    train(core, learner_for(core), rounds=100, window=50, out_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="already holds a run"):
        train(core, learner_for(core), rounds=100, window=50, out_dir=tmp_path, progress=False)
    (tmp_path / "notes.txt").write_text("keep me")
    result = train(core, learner_for(core), rounds=200, window=50, out_dir=tmp_path,
                   overwrite=True, progress=False)
    assert len(read_csv(tmp_path / "metrics.csv")) == 4 and result.rounds == 200
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def checkpoint_dirs(run: Path) -> list[str]:
    return sorted(p.name for p in (run / "checkpoints").iterdir())


def test_checkpoints_are_complete_and_load_without_pickle(tmp_path):
    core = contribution(observe="population", max_cycles=5000)
    train(core, learner_for(core), rounds=1000, window=100, out_dir=tmp_path,
          checkpoint_every=200, keep_checkpoints=None, progress=False)
    names = checkpoint_dirs(tmp_path)
    assert names == [f"round_{r:012d}" for r in (200, 400, 600, 800, 1000)]
    for name in names:
        folder = tmp_path / "checkpoints" / name
        assert sorted(p.name for p in folder.iterdir()) == ["arrays.npz", "state.json"]
        with np.load(folder / "arrays.npz", allow_pickle=False) as archive:
            assert all(archive[key].dtype != object for key in archive.files)
        json.loads((folder / "state.json").read_text())
    state = load_checkpoint(tmp_path / "checkpoints" / names[-1])
    assert state["loop"]["round"] == 1000 and state["core"]["cycle"] == 1000
    observations = state["loop"]["observations"]["agent"]
    assert observations["broadcast"] is True  # one row, not N copies
    np.testing.assert_array_equal(state["learners"]["agent"]["current"].shape, (N,))


def test_keep_checkpoints_prunes_old_ones(tmp_path):
    core = contribution()
    train(core, learner_for(core), rounds=1000, window=100, out_dir=tmp_path,
          checkpoint_every=100, keep_checkpoints=2, progress=False)
    assert checkpoint_dirs(tmp_path) == ["round_000000000900", "round_000000001000"]


def test_a_failed_save_leaves_no_partial_checkpoint(tmp_path, monkeypatch):
    calls = {"n": 0}
    real_replace = os.replace

    def flaky_replace(src, dst):  # the 3rd rename is the 2nd checkpoint's: fail it
        calls["n"] += 1
        if "round_000000000400" in str(dst):
            raise OSError("disk full")
        return real_replace(src, dst)

    core = contribution()
    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(OSError, match="disk full"):
        train(core, learner_for(core), rounds=1000, window=100, out_dir=tmp_path,
              checkpoint_every=200, progress=False)
    monkeypatch.setattr(os, "replace", real_replace)
    assert checkpoint_dirs(tmp_path) == ["round_000000000200"]
    assert len(read_csv(tmp_path / "metrics.csv")) == 4  # logged up to the failure
    resumed = train(contribution(), learner_for(contribution()), rounds=1000, window=100,
                    out_dir=tmp_path, checkpoint_every=200, resume=True, progress=False)
    straight = train(contribution(), learner_for(contribution()), rounds=1000, window=100,
                     progress=False)
    same_history(resumed.history, straight.history)
    assert len(read_csv(tmp_path / "metrics.csv")) == 10


def test_state_trees_round_trip_without_pickle():
    tree = {"a": np.arange(3), "b": {"c": np.float32(1.5), "d": [1, "x", None, np.int64(4)]},
            "e": 2.5}
    json_part, arrays = split_state(tree)
    json.dumps(json_part)
    back = join_state(json.loads(json.dumps(json_part)), arrays)
    np.testing.assert_array_equal(back["a"], tree["a"])
    assert back["b"]["c"].dtype == np.float32 and back["b"]["d"][3].dtype == np.int64
    with pytest.raises(TypeError, match="without pickle"):
        split_state({"f": object()})
    with pytest.raises(TypeError, match="object arrays"):
        split_state({"g": np.array([None])})


# ----------------------------------------------------------------------------- exact resume
RESUME_CASES = {
    "contribution-average": (lambda: contribution(), {}),
    "episode-boundary-mid-window": (lambda: contribution(max_cycles=70), {}),
    "sample-statistics": (
        lambda: contribution(observe="sample:3", payoff="matching", max_cycles=90),
        {"use_statistics": True},
    ),
    "population-statistics": (
        lambda: MatrixCore(game="stag_hunt", n_agents=N, observe="population", max_cycles=50),
        {"use_statistics": True},
    ),
    "matrix-matching": (lambda: MatrixCore(game="climbing", n_agents=N + 1), {}),
}


@pytest.mark.parametrize("first", [330, 400])
@pytest.mark.parametrize("name", sorted(RESUME_CASES))
def test_resume_equals_an_uninterrupted_run(tmp_path, name, first):
    make_core, learner_kwargs = RESUME_CASES[name]
    total, window = 1000, 50
    straight_dir = tmp_path / "straight"
    straight = train(make_core(), learner_for(make_core(), **learner_kwargs), rounds=total,
                     seed=11, window=window, out_dir=straight_dir, progress=False)
    run = tmp_path / "resumed"
    train(make_core(), learner_for(make_core(), **learner_kwargs), rounds=first, seed=11,
          window=window, out_dir=run, checkpoint_every=100, progress=False)
    resumed = train(make_core(), learner_for(make_core(), **learner_kwargs), rounds=total,
                    seed=11, window=window, out_dir=run, resume=True, progress=False)
    assert resumed.rounds == straight.rounds == total
    same_history(resumed.history, straight.history)
    np.testing.assert_array_equal(resumed.policy, straight.policy)
    assert resumed.episodes == straight.episodes
    assert resumed.timings.rounds == total - first
    a, b = read_csv(run / "metrics.csv"), read_csv(straight_dir / "metrics.csv")
    assert [{k: v for k, v in r.items() if k != "time"} for r in a] == [
        {k: v for k, v in r.items() if k != "time"} for r in b
    ]


def test_resume_truncates_log_rows_after_the_checkpoint(tmp_path):
    core = contribution()
    train(core, learner_for(core), rounds=500, window=100, out_dir=tmp_path, progress=False)
    with (tmp_path / "metrics.csv").open("a") as handle:  # rows a crash logged past the save
        handle.write("600,1,1,1,1,1,1\n700,1,1,1,1,1,1\n")
    train(contribution(), learner_for(contribution()), rounds=500, window=100, out_dir=tmp_path,
          resume=True, progress=False)
    assert [r["round"] for r in read_csv(tmp_path / "metrics.csv")] == [
        "100", "200", "300", "400", "500"
    ]


def test_keyboard_interrupt_checkpoints_and_resumes_exactly(tmp_path):
    class Interrupt(Callback):
        def on_window(self, row):
            if row.round == 300:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(contribution(), learner_for(contribution()), rounds=1000, window=100,
              out_dir=tmp_path, callbacks=[Interrupt()], progress=False)
    assert checkpoint_dirs(tmp_path) == ["round_000000000300"]
    assert len(read_csv(tmp_path / "metrics.csv")) == 3
    resumed = train(contribution(), learner_for(contribution()), rounds=1000, window=100,
                    out_dir=tmp_path, resume=True, progress=False)
    straight = train(contribution(), learner_for(contribution()), rounds=1000, window=100,
                     progress=False)
    same_history(resumed.history, straight.history)
    np.testing.assert_array_equal(resumed.policy, straight.policy)


def test_ctrl_c_mid_round_finishes_the_round_then_checkpoints(tmp_path):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT has a custom handler in this process")

    class Ctrl(TinyStage):
        def update(self, *args, **kwargs):
            super().update(*args, **kwargs)
            if self.t == 237:
                os.kill(os.getpid(), signal.SIGINT)

    core = contribution()
    with pytest.raises(KeyboardInterrupt):
        train(core, Ctrl(N, 20, seed=7), rounds=1000, window=100, out_dir=tmp_path,
              progress=False)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert checkpoint_dirs(tmp_path) == ["round_000000000237"]
    resumed = train(contribution(), Ctrl(N, 20, seed=7), rounds=1000, window=100,
                    out_dir=tmp_path, resume=True, progress=False)
    straight = train(contribution(), learner_for(contribution()), rounds=1000, window=100,
                     progress=False)
    same_history(resumed.history, straight.history)
    np.testing.assert_array_equal(resumed.policy, straight.policy)


def test_resume_with_another_config_is_refused(tmp_path):
    train(contribution(), learner_for(contribution()), rounds=200, window=100,
          out_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="different configuration.*learner"):
        train(contribution(), learner_for(contribution(), epsilon=0.3), rounds=400, window=100,
              out_dir=tmp_path, resume=True, progress=False)
    with pytest.raises(ValueError, match="different configuration.*env"):
        train(MatrixCore(game=np.eye(20), n_agents=N), learner_for(contribution()), rounds=400,
              window=100, out_dir=tmp_path, resume=True, progress=False)
    with pytest.raises(ValueError, match="different configuration.*window"):
        train(contribution(), learner_for(contribution()), rounds=400, window=50,
              out_dir=tmp_path, resume=True, progress=False)
    with pytest.raises(ValueError, match="already played"):
        train(contribution(), learner_for(contribution()), rounds=100, window=100,
              out_dir=tmp_path, resume=True, progress=False)


def test_resume_in_an_empty_folder_starts_a_fresh_run(tmp_path):
    resumed = train(contribution(), learner_for(contribution()), rounds=200, window=100,
                    out_dir=tmp_path / "new", resume=True, progress=False)
    straight = train(contribution(), learner_for(contribution()), rounds=200, window=100,
                     progress=False)
    same_history(resumed.history, straight.history)


def test_resume_in_an_empty_folder_says_it_starts_afresh(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="populace.train"):
        train(contribution(), learner_for(contribution()), rounds=100, window=100,
              out_dir=tmp_path / "new", resume=True, progress=False)
    assert f"no checkpoint in {tmp_path / 'new'}; starting afresh" in caplog.text


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside an array's bytes (the zip CRC or our checksum)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_truncate, _empty, _flip_one_byte])
def test_a_corrupt_newest_checkpoint_falls_back_to_the_older_one(tmp_path, caplog, damage):
    train(contribution(), learner_for(contribution()), rounds=400, window=100, seed=3,
          out_dir=tmp_path, checkpoint_every=100, keep_checkpoints=2, progress=False)
    assert checkpoint_dirs(tmp_path) == ["round_000000000300", "round_000000000400"]
    damaged = tmp_path / "checkpoints" / "round_000000000400" / "arrays.npz"
    damage(damaged)
    with pytest.raises(ValueError, match=re.escape(str(damaged))):
        load_checkpoint(damaged.parent)
    with caplog.at_level("WARNING", logger="populace.train"):
        resumed = train(contribution(), learner_for(contribution()), rounds=1000, window=100,
                        seed=3, out_dir=tmp_path, resume=True, progress=False)
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 1 and str(damaged) in notices[0] and "\n" not in notices[0]
    assert resumed.timings.rounds == 700  # from round 300, the intact one
    straight = train(contribution(), learner_for(contribution()), rounds=1000, window=100,
                     seed=3, progress=False)
    same_history(resumed.history, straight.history)
    np.testing.assert_array_equal(resumed.policy, straight.policy)


def _saved_run(tmp_path: Path) -> Path:
    train(contribution(), learner_for(contribution()), rounds=200, window=100, seed=3,
          out_dir=tmp_path, checkpoint_every=100, keep_checkpoints=1, progress=False)
    return tmp_path / "checkpoints" / "round_000000000200"


def _recast_first_array(folder: Path) -> None:
    with np.load(folder / "arrays.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    name = next(n for n, a in arrays.items() if a.dtype.kind in "if" and a.ndim)
    arrays[name] = arrays[name].astype(np.int8)
    np.savez(folder / "arrays.npz", **arrays)


def _rewind_round(folder: Path) -> None:
    document = json.loads((folder / "state.json").read_text())
    document["state"]["loop"]["round"] = 100
    (folder / "state.json").write_text(json.dumps(document))


def _drop_core(folder: Path) -> None:
    document = json.loads((folder / "state.json").read_text())
    del document["state"]["core"]
    (folder / "state.json").write_text(json.dumps(document))


def _half_json(folder: Path) -> None:
    text = (folder / "state.json").read_text()
    (folder / "state.json").write_text(text[: len(text) // 2])


@pytest.mark.parametrize(
    ("edit", "file", "message"),
    [
        (_recast_first_array, "arrays.npz", "has dtype |i1, but was saved with"),
        (_rewind_round, "state.json", "does not match its checksum"),
        (_drop_core, "state.json", "does not match its checksum"),
        (_half_json, "state.json", "is not valid JSON"),
    ],
)
def test_edited_checkpoints_are_refused_naming_the_file(tmp_path, edit, file, message):
    folder = _saved_run(tmp_path)
    edit(folder)
    with pytest.raises(ValueError, match=re.escape(str(folder / file)) + ".*" + re.escape(
            message)):
        load_checkpoint(folder)
    with pytest.raises(ValueError, match="no intact checkpoint in .*" + re.escape(message)):
        train(contribution(), learner_for(contribution()), rounds=400, window=100, seed=3,
              out_dir=tmp_path, resume=True, progress=False)


def test_a_checkpoint_without_the_core_key_is_a_clear_error(tmp_path):
    from populace.train.checkpoint import save_checkpoint

    folder = _saved_run(tmp_path)
    state = load_checkpoint(folder)
    del state["core"]
    save_checkpoint(folder.parent, 200, state)  # intact files, incomplete state
    with pytest.raises(ValueError, match=re.escape(
            f"{folder / 'state.json'} lacks the keys ['core'] of a run's state")):
        train(contribution(), learner_for(contribution()), rounds=400, window=100, seed=3,
              out_dir=tmp_path, resume=True, progress=False)


def test_a_bad_config_json_is_named(tmp_path):
    _saved_run(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / 'config.json'} is not valid "
                                                   "JSON")):
        train(contribution(), learner_for(contribution()), rounds=400, window=100, seed=3,
              out_dir=tmp_path, resume=True, progress=False)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rounds": 0}, ValueError, "rounds must be >= 1"),
        ({"rounds": 2.5}, TypeError, "rounds must be an int"),
        ({"rounds": None}, ValueError, "budget of rounds= or of episodes="),
        ({"episodes": 3}, ValueError, "budget of rounds= or of episodes="),
        ({"window": 0}, ValueError, "window must be >= 1"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"checkpoint_every": 150, "out_dir": "x"}, ValueError, "multiple of window"),
        ({"checkpoint_every": 200}, ValueError, "needs out_dir"),
        ({"resume": True}, ValueError, "needs out_dir"),
        ({"progress": "yes"}, TypeError, "progress must be"),
        ({"callbacks": [42]}, TypeError, r"callbacks\[0\]"),
        ({"callbacks": [Callback, "csv"]}, TypeError, r"callbacks\[0\]"),
        ({"callbacks": 3}, TypeError, "callbacks must be a list"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    arguments = {"rounds": 100, "window": 100, "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        train(contribution(), learner_for(contribution()), **arguments)


def test_learner_must_fit_the_game():
    with pytest.raises(ValueError, match="learner.n_agents is 5 but group 'agent'"):
        train(contribution(), TinyStage(5, 20), rounds=10, progress=False)
    with pytest.raises(ValueError, match=r"acts in Discrete\(3\) but group 'agent'"):
        train(contribution(), TinyStage(N, 3), rounds=10, progress=False)
    with pytest.raises(ValueError, match="observe='population'"):
        train(contribution(), TinyStage(N, 20, use_statistics=True), rounds=10, progress=False)
    with pytest.raises(TypeError, match="env must be a PopulationCore"):
        train(object(), TinyStage(N, 20), rounds=10, progress=False)
    with pytest.raises(TypeError, match="learner must be"):
        train(contribution(), object(), rounds=10, progress=False)


# ----------------------------------------------------------------------------- real learners
@pytest.mark.parametrize(
    ("env_kwargs", "statistics"),
    [({}, False), ({"payoff": "matching", "observe": "population", "max_cycles": 170}, True)],
)
def test_stage_learner_trains_and_resumes(tmp_path, env_kwargs, statistics):
    stage = pytest.importorskip("populace.agents.stage")

    def make() -> Any:
        return stage.StageLearner(N, 20, epsilon=0.05, tau=50, use_statistics=statistics, seed=3)

    straight = train(contribution(**env_kwargs), make(), rounds=600, window=50, progress=False)
    train(contribution(**env_kwargs), make(), rounds=250, window=50, out_dir=tmp_path,
          progress=False)
    resumed = train(contribution(**env_kwargs), make(), rounds=600, window=50, out_dir=tmp_path,
                    resume=True, progress=False)
    same_history(resumed.history, straight.history)
    np.testing.assert_array_equal(resumed.policy, straight.policy)
    assert straight.history.final("distance") < straight.history.distance[0]
