"""Stable-Baselines3 baselines on Populace games, with one network shared by all agents.

Needs the ``baselines`` extra (``torch``, ``stable-baselines3``, ``supersuit``). Three pieces:

* :class:`PopulationVecEnv` — an SB3 ``VecEnv`` whose ``num_envs`` slots are the agents of one
  group of a :class:`~populace.envs.core.PopulationCore`. An SB3 algorithm trained on it learns
  one policy that every agent uses (parameter sharing). A step is one core step over the whole
  population; the only per-agent Python is the list of info dicts SB3 expects every step.
* :func:`supersuit_vec_env` — the usual PettingZoo route, SuperSuit's
  ``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1(..., base_class="stable_baselines3")``,
  with two gaps of SuperSuit 3.11 under SB3 2.9 fixed (see :class:`SuperSuitVecEnv`). It works
  on any PettingZoo env whose agents share one observation and one action space; it is slower
  than :class:`PopulationVecEnv` because it goes through per-agent dicts.
* :class:`SB3Learner` — PPO, A2C or DQN as a :class:`~populace.agents.base.Learner`, so the
  same :func:`populace.train.train` loop and the same metrics score it and the paper learners.

How :class:`SB3Learner` fits an external act/update loop
----------------------------------------------------------
An SB3 algorithm owns its loop: ``learn()`` alternates ``collect_rollouts`` (step the env, fill
a buffer) and ``train()`` (gradient steps on the buffer). The learner offers both halves:

1. ``learner.learn(rounds)`` runs SB3's own ``learn`` on a :class:`PopulationVecEnv` over the
   learner's core — SB3's code path, untouched.
2. ``act``/``update`` (what :func:`populace.train.train` calls) do the collection half
   themselves: the transitions the train loop reports go into the algorithm's own buffer
   (``RolloutBuffer`` for PPO/A2C, ``ReplayBuffer`` for DQN), and the algorithm's ``train()``
   runs where SB3's ``learn`` would run it — after every ``n_steps`` rounds (PPO/A2C, with SB3's
   GAE on the filled buffer), every ``train_freq`` rounds once ``learning_starts`` agent-steps
   are collected (DQN, whose target-network copies and ε schedule come from ``DQN._on_step``).
   The network, optimizer and update rule are SB3's; only the data collection is ours.

Where the act/update mode differs from SB3's own collection (on purpose, and documented):

* Actions are drawn with the learner's numpy generator from the policy's probabilities, so a
  learner seed fixes a run. DQN explores independently per agent (SB3's ``DQN.predict`` flips
  one coin for the whole batch).
* Episode ends are told, not reported by a VecEnv: SB3 reads them from ``dones`` and
  ``infos``, the learner from the ``terminated``/``truncated`` flags of the
  :class:`~populace.agents.base.Transition`, whose ``next_observations`` are the true
  successor (what SB3 keeps in ``terminal_observation``), never the next episode's first
  observation. Nothing is inferred from the observations. Each ``update`` adds its row to the
  buffer at once and treats the flags as SB3 treats an episode end: on a truncation (a time
  limit such as ``max_cycles``) PPO/A2C add ``γ·V(next_observations)`` to the reward, because
  the episode was cut short, not finished; on a termination they add nothing. Either way the
  next row starts a new episode, so GAE never runs across the boundary. DQN stores
  ``done=True`` for both and marks a truncation as a time-out in the info, which SB3's replay
  buffer (``handle_timeout_termination``, on by default) leaves out of its targets: only a
  termination stops the bootstrap. Games that terminate train in this mode as well as with
  :meth:`SB3Learner.learn`.
* SB3 draws minibatches and exploration noise from numpy's and torch's *global* generators.
  Every call into SB3 that may draw random numbers runs inside a context that seeds both from
  the learner's generator and restores them afterwards, so runs are reproducible and the
  caller's global random state is left alone.

The pieces live in :mod:`populace.agents.sb3.vec_env` (the two VecEnvs),
:mod:`populace.agents.sb3.learner` (:class:`SB3Learner`) and :mod:`populace.agents.sb3.state`
(checkpoints and global random state); :mod:`populace.agents.sb3.ppo_contribution` measures one
baseline, :func:`~populace.agents.sb3.ppo_contribution.train_ppo_contribution`. Importing this
package imports neither torch nor SB3; its modules do.
"""
