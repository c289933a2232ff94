"""The metric columns of ``mf_lqr_v0``: where the population is against the stationary
equilibrium, and how exploitable the learners' policy is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from populace.envs.core import Step
from populace.envs.mean_field_lqr.reference import LinearPolicy, as_linear_policy, exploitability
from populace.envs.metrics import WindowMetrics

if TYPE_CHECKING:
    from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore

NAN = float("nan")


class MFLQRMetrics(WindowMetrics):
    """Columns, for one window of steps:

    * ``mean_x``, ``mean_y``, ``variance``: the population's mean and its variance per
      coordinate (the average of the two coordinates' variances), each averaged over the
      window's steps, at the positions the agents acted from;
    * ``mean_error`` = |mean − m*| (Euclidean) and ``variance_error`` = |variance − v*|, against
      :meth:`~populace.envs.mean_field_lqr.mf_lqr.MFLQRCore.reference_equilibrium` (stationary; the
      steps right after a reset, while the population travels from its starting
      distribution, count as well);
    * ``exploitability``: what one agent gains per unit time by best-responding to a
      population that plays the learners' policy and sits at that policy's stationary
      distribution (exact, by Riccati; infinite for a policy that does not stabilize).

    The policy scored is ``policies["agent"]`` when it is linear — a
    :class:`~populace.envs.mean_field_lqr.reference.LinearPolicy`, ``{"gain": K, "offset": c}``, a
    pair ``(K, c)`` or an object with ``gain`` and ``offset`` attributes, all meaning
    ``u = −K(x − c)`` with K a scalar, a pair (diagonal) or a 2×2 matrix. Any other policy
    (a callable, a network, nothing) is replaced by the least-squares affine fit
    ``u ≈ −K·x + b`` of the actions the agents played from their positions in the window;
    NaN when the window cannot determine it (no steps, or positions with no spread).
    """

    columns = ("mean_x", "mean_y", "variance", "mean_error", "variance_error",
               "exploitability")
    headline = "exploitability"

    def __init__(self, core: MFLQRCore) -> None:
        self.core = core
        self.reference = core.reference_equilibrium()
        self.clear()

    def record(self, actions: Mapping[str, np.ndarray], step: Step) -> None:
        positions = step.info["positions"]
        mean = step.info["mean"]
        played = actions[self.core.agent_group]
        centred = positions - mean
        second = centred.T @ centred  # spread of the positions, about their mean
        self.rounds += 1
        self.mean_sum += mean
        self.variance_sum += float(np.trace(second)) / (2 * len(positions))
        # least-squares sums: Σxxᵀ and Σxuᵀ, built from the centred products of each step
        n = len(positions)
        sums = played.sum(axis=0)
        self.samples += n
        self.xx += second + n * np.outer(mean, mean)
        self.x_sum += n * mean
        self.xu += centred.T @ played + np.outer(mean, sums)
        self.u_sum += sums

    def fitted_policy(self) -> LinearPolicy | None:
        """The least-squares affine fit of the window's play, as a linear policy (None when
        the positions' spread does not determine it)."""
        if self.rounds == 0:
            return None
        n = self.samples
        mean_x = self.x_sum / n
        mean_u = self.u_sum / n
        sxx = self.xx / n - np.outer(mean_x, mean_x)
        sxu = self.xu / n - np.outer(mean_x, mean_u)
        spread = np.linalg.eigvalsh(sxx)
        if not spread[-1] > 0 or spread[0] <= 1e-12 * spread[-1]:
            return None
        slope = np.linalg.solve(sxx, sxu)  # u ≈ mean_u + slopeᵀ (x − mean_x)
        gain = -slope.T
        intercept = mean_u + gain @ mean_x
        return LinearPolicy.affine(gain, intercept)

    def exploitability_of(self, policy: object) -> float:
        linear = as_linear_policy(policy)
        if linear is None:
            raise TypeError(
                f"{self.core.metadata['name']} scores linear policies: a LinearPolicy, "
                "{'gain': K, 'offset': c}, (K, c) or an object with gain and offset; got "
                f"{type(policy).__name__}"
            )
        return exploitability(self.core.lq, linear)

    def scores(self, policies: Mapping[str, Any]) -> dict[str, float | int]:
        policy = as_linear_policy(policies.get(self.core.agent_group))
        if policy is None:
            policy = self.fitted_policy()
        scores = {"exploitability": NAN if policy is None
                  else exploitability(self.core.lq, policy)}
        if self.rounds == 0:
            return {**dict.fromkeys(("mean_x", "mean_y", "variance", "mean_error",
                                     "variance_error"), NAN), **scores}
        mean = self.mean_sum / self.rounds
        variance = self.variance_sum / self.rounds
        return {
            "mean_x": float(mean[0]), "mean_y": float(mean[1]), "variance": variance,
            "mean_error": float(np.linalg.norm(mean - self.reference.mean)),
            "variance_error": abs(variance - self.reference.variance),
            **scores,
        }

    def clear(self) -> None:
        self.rounds = 0
        self.samples = 0
        self.mean_sum = np.zeros(2)
        self.variance_sum = 0.0
        self.xx = np.zeros((2, 2))
        self.x_sum = np.zeros(2)
        self.xu = np.zeros((2, 2))
        self.u_sum = np.zeros(2)

    _ARRAYS = ("mean_sum", "xx", "x_sum", "xu", "u_sum")

    def state_dict(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "samples": self.samples,
                "variance_sum": self.variance_sum,
                **{name: getattr(self, name).copy() for name in self._ARRAYS}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name in self._ARRAYS:
            value = np.asarray(state[name], dtype=np.float64)
            if value.shape != getattr(self, name).shape:
                raise ValueError(f"checkpoint {name} has shape {value.shape}, "
                                 f"expected {getattr(self, name).shape}")
            setattr(self, name, value.copy())
        self.rounds = int(state["rounds"])
        self.samples = int(state["samples"])
        self.variance_sum = float(state["variance_sum"])
