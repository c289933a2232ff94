"""A mean-field LQR step against bare numpy kernels (SPEC §6: a mean-field game steps at
N = 10⁶ within 3× of a bare kernel; "LQR the same").

:func:`measure_lqr` times, interleaved in one run on the default ``mf_lqr_v0``,

* ``MFLQRCore.step`` (validation of the Box actions, observations and Step included),
* the *formula kernel*: rewards written as defined,
  ``−(q₁|x − h|² + q₂|x − m̄|² + ½|u|²)·Δt``, then ``x + uΔt + σ√Δt·ε`` and the new mean,
* the *completed-square kernel*: the same numbers with the core's own arithmetic
  (``−(Q|x − z|² + ½|u|² + const)·Δt``), written as bare numpy on ``(n, 2)`` arrays,
* the *complex kernel*: that arithmetic on the points as complex numbers, as the core does it
  (no broadcasting over a length-2 axis),

after checking that both kernels give the core's rewards, positions and mean (each kernel
draws the noise from a generator in the core's state, so the draws are the same). The
fastest kernel is the yardstick.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from populace.bench.measure import FOREVER, stepper
from populace.bench.rows import LQRRow
from populace.bench.timing import Timing, time_interleaved
from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore

Kernel = Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]]


def lqr_kernels(core: MFLQRCore, u: np.ndarray) -> dict[str, Kernel]:
    """Bare numpy steps from the core's current positions (no validation, no Step)."""
    model = core.lq
    x, mean = core.positions.copy(), core.mean.copy()
    h, dt, q1, q2, q = model.h, model.dt, model.q1, model.q2, model.q
    scale = model.sigma * np.sqrt(dt)
    state = core.np_random.bit_generator.state
    rngs = {name: np.random.default_rng()
            for name in ("formula", "completed square", "complex")}
    for rng in rngs.values():
        rng.bit_generator.state = state

    def move(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        new = x + u * dt + scale * rng.standard_normal(x.shape)
        return new, new.mean(axis=0)

    def formula() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cost = (q1 * ((x - h) ** 2).sum(axis=1) + q2 * ((x - mean) ** 2).sum(axis=1)
                + 0.5 * (u**2).sum(axis=1))
        return (-dt * cost, *move(rngs["formula"]))

    def completed_square() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = (q1 * h + q2 * mean) / q
        constant = q1 * q2 / q * float(((h - mean) ** 2).sum())
        y = x - z
        y *= y
        y *= q
        y += 0.5 * u * u
        rewards = y[:, 0] + y[:, 1]
        rewards += constant
        rewards *= -dt
        return (rewards, *move(rngs["completed square"]))

    xc, uc = x.view(np.complex128).reshape(-1), u.view(np.complex128).reshape(-1)

    def complex_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = (q1 * h + q2 * mean) / q
        constant = q1 * q2 / q * float(((h - mean) ** 2).sum())
        y = (xc - complex(z[0], z[1])).view(np.float64).reshape(-1, 2)
        y *= y
        rewards = y[:, 0] + y[:, 1]
        rewards *= q
        v = u * u
        rewards += 0.5 * (v[:, 0] + v[:, 1])
        rewards += constant
        rewards *= -dt
        new = rngs["complex"].standard_normal(2 * len(x)).view(np.complex128)
        new *= scale
        new += xc
        new += uc * dt
        total = new.sum() / len(new)
        return rewards, new.view(np.float64).reshape(-1, 2), np.array([total.real, total.imag])

    return {"formula": formula, "completed square": completed_square, "complex": complex_points}


def check_kernels(core: MFLQRCore, u: np.ndarray, kernels: dict[str, Kernel]) -> None:
    """Raise unless every kernel's first call reproduces the core's next step."""
    results = {name: kernel() for name, kernel in kernels.items()}
    step = core.step({"agent": u})
    for name, (rewards, positions, mean) in results.items():
        if not (np.allclose(rewards, step.rewards["agent"], rtol=1e-12, atol=1e-14)
                and np.allclose(positions, core.positions, rtol=1e-12, atol=1e-14)
                and np.allclose(mean, core.mean, rtol=1e-12, atol=1e-14)):
            raise AssertionError(f"mf_lqr step disagrees with the {name} kernel")


def measure_lqr(n_agents: int, timing: Timing, *, seed: int = 0) -> LQRRow:
    """The default game's step against the fastest bare kernel, at ``n_agents``."""
    core = MFLQRCore(n_agents=n_agents, max_cycles=FOREVER)
    core.reset(seed=seed)
    bound = core.action_bound
    u = np.random.default_rng(seed).uniform(-bound, bound, size=(n_agents, 2)) / 10
    kernels = lqr_kernels(core, u)
    check_kernels(core, u, kernels)
    times = time_interleaved({"step": stepper(core, {"agent": u}), **kernels}, timing)
    fastest = min(kernels, key=lambda name: times[name].median)
    return LQRRow(n_agents, times["step"].median, times[fastest].median, fastest,
                  times["step"].best, times[fastest].best)
