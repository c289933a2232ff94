"""The ZSPG solvers against independent ones: Gambit's logit QRE and scipy's LP solver.

Run by ``make test-crosscheck`` in a venv of its own (the ``crosscheck`` extra: pygambit,
scipy); elsewhere the module is skipped. Neither package is a dependency of Populace.

* **QRE** — :func:`populace.envs.zero_sum.solvers.qre` against Gambit's logit QRE
  (``pygambit.qre.logit_solve_lambda``, McKelvey & Palfrey's logit correspondence traced by
  path following). Gambit's λ is 1/T, one λ for all players, and the λ's must be given in
  increasing order (it traces the principal branch from λ = 0; a decreasing list returns junk
  such as λ = 9.5e307). A temperature per agent is the same QRE as λ = 1 on the game whose
  agent k's payoffs are divided by T_k, which Gambit can take. The games are built for Gambit
  as full payoff tables from the rules (AMPs, RPS, the SPEC's chain payoffs), not from our edge
  arrays. Agreement to 1e-6 is asserted; measured: within 5e-11 everywhere.
* **Nash set of the chain** — the set :func:`~populace.envs.zero_sum.solvers.is_chain_nash`
  documents (n odd; agents 1..n: every odd agent plays H, the even agents' P(H) non-decreasing
  along the chain, pure steps included) against
  (a) the linear program of Cai, Candogan, Daskalakis & Papadimitriou (*Zero-sum polymatrix
  games: a generalization of minmax*, Math. Oper. Res. 2016): in a (weighted) zero-sum
  polymatrix game Σ_k w_k⟨x_k, r_k(x)⟩ depends only on the fixed neighbours (the zero-sum
  edges cancel), so Φ(x) = Σ_k w_k·(max_i r_ki(x) − ⟨x_k, r_k(x)⟩) — zero exactly at a Nash
  equilibrium — equals Σ_k w_k·max_i r_ki(x) − Σ_k w_k⟨x_k, b_k⟩, convex and piecewise
  linear: min Σ_k w_k v_k − Σ_k w_k⟨x_k, b_k⟩ subject to v_k ≥ r_ki(x), x_k in the simplex,
  has value 0 and its optimal face, projected on x, *is* the Nash set (a polytope). The tests
  show that polytope equals the documented set for n = 3, 5, 7, 9: no point of it has an odd
  agent off H or two consecutive even agents decreasing (LP maxima 0: the face lies in the
  set), every extreme point of the set (odd agents on H, even agents' P(H) a 0…0 1…1 step) is
  on the face (the set lies in the face), and their support functions agree in random
  directions;
  (b) a grid: every profile with each P(H) on a grid, whose total best-response gain is solved
  as one LP over the product of simplices (not by taking the largest payoff entry): zero
  exactly on the documented set, positive off it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

gambit = pytest.importorskip("pygambit", reason="cross-checks need the crosscheck extra "
                                                "(make test-crosscheck)")
optimize = pytest.importorskip("scipy.optimize", reason="cross-checks need scipy "
                                                         "(make test-crosscheck)")

from zspg_reference import H, T, chain_payoffs  # noqa: E402  (tests/ is on sys.path)

from populace.envs.zero_sum.polymatrix import AMPS, RPS, chain_game, two_agent_game  # noqa: E402
from populace.envs.zero_sum.solvers import (  # noqa: E402
    chain_nash_point,
    is_chain_nash,
    nash_conv,
    qre,
)


# ============================================================ games from the rules, dense
def chain_tables(n: int) -> list[np.ndarray]:
    """Every agent's payoff over all 2^n pure profiles, ``n`` arrays of shape (2,)*n."""
    tables = np.zeros((n,) + (2,) * n)
    for profile in itertools.product(range(2), repeat=n):
        tables[(slice(None), *profile)] = chain_payoffs(profile)
    return list(tables)


def chain_dense(n: int) -> tuple[np.ndarray, np.ndarray]:
    """r(x) = R·x + b for the chain, flattened (agent k's action i at row 2k + i), written
    from the rules: M = [[1, −1], [−1, 1]] pays the predecessor (match), −Mᵀ the successor;
    the dummies give agent 1 what a successor of T gets, agent n what a predecessor of H
    gets."""
    match = np.array([[1.0, -1.0], [-1.0, 1.0]])
    r = np.zeros((2 * n, 2 * n))
    for k in range(n - 1):
        r[2 * k:2 * k + 2, 2 * k + 2:2 * k + 4] = match
        r[2 * k + 2:2 * k + 4, 2 * k:2 * k + 2] = -match.T
    b = np.zeros(2 * n)
    b[0:2] += -match.T[:, T]
    b[2 * n - 2:] += match[:, H]
    return r, b


def test_the_dense_chain_is_the_package_chain():
    """The LP's matrices (from the rules) and the package's edge arrays give the same r(x)."""
    rng = np.random.default_rng(0)
    for n in (3, 5, 7):
        r, b = chain_dense(n)
        game = chain_game(n)
        for x in rng.dirichlet(np.ones(2), size=(5, n)):
            np.testing.assert_allclose((r @ x.ravel() + b).reshape(n, 2),
                                       game.payoff_vectors(x), atol=1e-12)
        for profile in itertools.product(range(2), repeat=n):
            np.testing.assert_allclose(game.payoffs(np.array(profile)), chain_payoffs(profile))


# ============================================================ QRE against Gambit
def gambit_qre(tables: list[np.ndarray], lams: list[float]) -> list[np.ndarray]:
    """Gambit's logit QRE at each λ (increasing), as ``(n, m)`` arrays."""
    assert lams == sorted(lams), "Gambit traces the branch from λ = 0: λ must increase"
    game = gambit.StrategicGame.from_arrays(*tables)
    players = list(game.players)
    out = []
    for point in gambit.qre.logit_solve_lambda(game, lams):
        assert point.lam == pytest.approx(lams[len(out)], rel=1e-6)
        profile = point.profile
        out.append(np.array([[float(profile[player][s]) for s in game.get_strategies(player)]
                             for player in players]))
    return out


# RPS's QRE is uniform at every T, so a skewed RPS (ours) checks a non-trivial 3-action one.
SKEWED_RPS = np.array([[0.0, -1.0, 2.0], [1.0, 0.0, -1.0], [-2.0, 1.0, 0.0]])
TWO_AGENT = {"amps": AMPS, "rps": RPS, "skewed-rps": SKEWED_RPS}
TEMPERATURES = [2.0, 1.0, 0.3, 0.1, 0.03]  # decreasing T, so increasing λ = 1/T


@pytest.mark.parametrize("name", sorted(TWO_AGENT))
def test_two_agent_qre_equals_gambits(name):
    """Agent 0 earns A[i, j], agent 1 earns −A[i, j] (= (−Aᵀ)[j, i], its own action first)."""
    a = TWO_AGENT[name]
    theirs = gambit_qre([a, -a], [1.0 / t for t in TEMPERATURES])
    game = two_agent_game(a)
    for t, reference in zip(TEMPERATURES, theirs, strict=True):
        np.testing.assert_allclose(qre(game, t).strategies, reference, atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", sorted(TWO_AGENT))
def test_qre_with_a_temperature_per_agent_equals_gambits(name):
    """x_k ∝ exp(r_k/T_k) is the λ = 1 QRE of the game whose agent k earns u_k/T_k."""
    a = TWO_AGENT[name]
    temperatures = np.array([0.2, 0.7])
    (theirs,) = gambit_qre([a / temperatures[0], -a / temperatures[1]], [1.0])
    np.testing.assert_allclose(qre(two_agent_game(a), temperatures).strategies, theirs,
                               atol=1e-6, rtol=0)


@pytest.mark.parametrize("n", [3, 5])
def test_chain_qre_equals_gambits(n):
    """The chain as an n-player table (2^n profiles, from the SPEC's payoff rule)."""
    tables = chain_tables(n)
    theirs = gambit_qre(tables, [1.0 / t for t in TEMPERATURES])
    for t, reference in zip(TEMPERATURES, theirs, strict=True):
        np.testing.assert_allclose(qre(chain_game(n), t).strategies, reference, atol=1e-6,
                                   rtol=0)
    temperatures = np.linspace(0.1, 0.6, n)
    (scaled,) = gambit_qre([table / tk for table, tk in zip(tables, temperatures, strict=True)],
                           [1.0])
    np.testing.assert_allclose(qre(chain_game(n), temperatures).strategies, scaled, atol=1e-6,
                               rtol=0)


def test_gambit_needs_increasing_lambda():
    """What the SPEC warns about: asked for λ = 10 then 1, Gambit does not return λ = 1."""
    game = gambit.StrategicGame.from_arrays(AMPS, -AMPS)
    second = gambit.qre.logit_solve_lambda(game, [10.0, 1.0])[1]
    assert second.lam != pytest.approx(1.0, rel=1e-3)


# ============================================================ the chain's Nash set by LP
class NashPolytope:
    """Cai et al.'s LP for the chain (unit weights), over z = (x, v): x the flattened profile
    (2n), v one value per agent (n). The Nash set is {x : (x, v) feasible with objective ≤ 0}.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        r, b = chain_dense(n)
        picks = np.repeat(np.eye(n), 2, axis=0)  # row 2k + i picks v_k
        # r_ki(x) − v_k ≤ −b_ki
        self.a_ub = np.hstack([r, -picks])
        self.b_ub = -b
        # Σ_k x_kH + x_kT = 1
        self.a_eq = np.hstack([np.repeat(np.eye(n), 2, axis=1), np.zeros((n, n))])
        self.b_eq = np.ones(n)
        # Φ = Σ_k v_k − Σ_k ⟨x_k, b_k⟩
        self.phi = np.concatenate([-b, np.ones(n)])
        self.bounds = [(0.0, 1.0)] * (2 * n) + [(None, None)] * n

    def minimum(self) -> float:
        """min Φ over all profiles (0: a Nash equilibrium exists and Φ ≥ 0)."""
        result = optimize.linprog(self.phi, A_ub=self.a_ub, b_ub=self.b_ub, A_eq=self.a_eq,
                                  b_eq=self.b_eq, bounds=self.bounds, method="highs")
        assert result.status == 0, result.message
        return float(result.fun)

    def contains(self, x: np.ndarray) -> bool:
        """Whether the profile ``(n, 2)`` is in the Nash set: the LP with x fixed is feasible."""
        fixed = [(float(p), float(p)) for p in np.ravel(x)] + [(None, None)] * self.n
        result = optimize.linprog(np.zeros(3 * self.n), A_ub=np.vstack([self.a_ub, self.phi]),
                                  b_ub=np.append(self.b_ub, 1e-12), A_eq=self.a_eq,
                                  b_eq=self.b_eq, bounds=fixed, method="highs")
        assert result.status in (0, 2), result.message  # 2: infeasible
        return bool(result.status == 0)

    def maximize(self, objective_x: np.ndarray) -> tuple[float, np.ndarray]:
        """max ⟨c, x⟩ over the Nash set (Φ ≤ 0), and a maximizing profile ``(n, 2)``."""
        c = np.concatenate([objective_x, np.zeros(self.n)])
        result = optimize.linprog(-c, A_ub=np.vstack([self.a_ub, self.phi]),
                                  b_ub=np.append(self.b_ub, 0.0), A_eq=self.a_eq,
                                  b_eq=self.b_eq, bounds=self.bounds, method="highs")
        assert result.status == 0, result.message
        return -float(result.fun), result.x[:2 * self.n].reshape(self.n, 2)


def heads_objective(n: int, weights: dict[int, float]) -> np.ndarray:
    """c with Σ weight·P(H) of the given 0-based agents."""
    c = np.zeros(2 * n)
    for k, w in weights.items():
        c[2 * k + H] = w
    return c


def step_vertices(n: int) -> list[np.ndarray]:
    """The extreme points of the documented set: odd agents on H, the even agents' P(H) a
    step 0…0 1…1 (every position of the step, all-0 and all-1 included)."""
    evens = n // 2
    return [chain_nash_point(np.r_[np.zeros(evens - s), np.ones(s)]) for s in range(evens + 1)]


@pytest.mark.parametrize("n", [3, 5, 7, 9])
def test_cai_lp_nash_polytope_is_the_documented_set(n):
    polytope = NashPolytope(n)
    assert polytope.minimum() == pytest.approx(0.0, abs=1e-9)
    odd, even = list(range(0, n, 2)), list(range(1, n, 2))  # 0-based rows of agents 1, 3, …
    # the face lies in the set: no odd agent ever leaves H ...
    for k in odd:
        value, x = polytope.maximize(heads_objective(n, {k: -1.0}))  # max −P(H) = −min P(H)
        assert -value == pytest.approx(1.0, abs=1e-9), f"agent {k + 1} can leave H"
    # ... and no even agent's P(H) exceeds its even successor's
    for k, after in zip(even, even[1:], strict=False):
        value, x = polytope.maximize(heads_objective(n, {k: 1.0, after: -1.0}))
        assert value == pytest.approx(0.0, abs=1e-9)
    # the set lies in the face: every extreme point is an equilibrium by the LP
    vertices = step_vertices(n)
    for vertex in vertices:
        assert polytope.contains(vertex)
    off = vertices[-1].copy()
    off[0] = [0.9, 0.1]  # agent 1 off H
    assert not polytope.contains(off)
    # and, in random directions, the LP's maxima equal the vertices' (equal support functions)
    rng = np.random.default_rng(n)
    stacked = np.stack([v.ravel() for v in vertices])
    for c in rng.normal(size=(30, 2 * n)):
        value, x = polytope.maximize(c)
        assert value == pytest.approx(float((stacked @ c).max()), abs=1e-8)
        assert is_chain_nash(x, atol=1e-8)
        assert nash_conv(chain_game(n), x) <= 1e-8
    # each even agent's P(H) ranges over all of [0, 1] on the face
    for k in even:
        assert polytope.maximize(heads_objective(n, {k: 1.0}))[0] == pytest.approx(1.0)
        assert polytope.maximize(heads_objective(n, {k: -1.0}))[0] == pytest.approx(0.0)


def best_response_gain_by_lp(r: np.ndarray, b: np.ndarray, x: np.ndarray) -> float:
    """Σ_k max over y_k in the simplex of ⟨y_k − x_k, r_k(x)⟩, as one LP over all y."""
    n = x.shape[0]
    payoff = r @ x.ravel() + b
    result = optimize.linprog(-payoff, A_eq=np.repeat(np.eye(n), 2, axis=1), b_eq=np.ones(n),
                              bounds=[(0.0, 1.0)] * (2 * n), method="highs")
    assert result.status == 0, result.message
    return -float(result.fun) - float(payoff @ x.ravel())


@pytest.mark.parametrize(("n", "levels"), [(3, 9), (5, 3), (7, 2)])
def test_grid_best_response_lp_is_zero_exactly_on_the_documented_set(n, levels):
    """Every profile with each agent's P(H) on the grid: the LP's total best-response gain is
    0 (≤ 1e-12) exactly where :func:`is_chain_nash` says, and equals :func:`nash_conv`."""
    r, b = chain_dense(n)
    game = chain_game(n)
    grid = np.linspace(0.0, 1.0, levels)
    inside = 0
    for heads in itertools.product(grid, repeat=n):
        x = np.stack([heads, 1.0 - np.array(heads)], axis=1)
        gain = best_response_gain_by_lp(r, b, x)
        in_set = is_chain_nash(x)
        inside += in_set
        assert (gain <= 1e-12) == in_set, heads
        assert gain == pytest.approx(nash_conv(game, x), abs=1e-9)
    # the set on the grid: odd agents at 1, even agents a non-decreasing sequence of levels
    evens = n // 2
    assert inside == len([s for s in itertools.product(range(levels), repeat=evens)
                          if list(s) == sorted(s)])
