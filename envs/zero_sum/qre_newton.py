"""Newton's method for the QRE of a polymatrix game (used by
:func:`populace.envs.zero_sum.solvers.qre`).

Newton on the QRE equations in centred logits w_k (``_NewtonSystem``): G_k(w) = T_k·w_k −
Uᵀ r_k(softmax(U w)) = 0, whose Jacobian is T_k·I on the diagonal plus one block per edge —
as sparse as the graph. It is solved densely for small games (at most NEWTON_DENSE_LIMIT
unknowns n·(m − 1)) and, for any size, when the graph is a path (the chain, AMPs, RPS): in
the path's order the Jacobian is block tridiagonal and odd–even cyclic reduction solves it in
log₂ n vectorized rounds (plain Gaussian elimination of the odd unknowns, whose diagonal
blocks are T_k·I). Steps are damped by backtracking on ‖G‖, and the temperatures follow an
adaptive homotopy from about 2L/T_min times the target (nearly uniform play) down to it:
each stage warm-starts the next, the scale falls by a factor that grows after easy stages
and shrinks (the stage retried) after one that needs more than NEWTON_STAGE_STEPS steps.
Newton steps, all stages together: 11 (T = 0.1) and 16–18 (T = 0.01) on the 7-agent chain
and on a 10⁵-agent chain, where the solve takes about 1 s at T = 0.1 and 2 s at T = 0.01
(extragradient: 940 steps and 99 s before its iteration went column-major, 55 s after, on a
busy 2-core machine).
"""

from __future__ import annotations

from typing import cast

import numpy as np

from populace.envs.zero_sum.polymatrix import PolymatrixGame

# Unknowns n·(m − 1) up to which Newton solves its system densely: above about 100, numpy's
# LAPACK (OpenBLAS) goes multi-threaded and took 90 ms per solve on a busy 2-core machine.
NEWTON_DENSE_LIMIT = 96
NEWTON_STAGE_STEPS = 12  # Newton steps a homotopy stage may take before it is retried
NEWTON_SCALE_FACTOR = 4.0  # the first reduction of the temperature scale between stages
NEWTON_MAX_FACTOR = 64.0


def softmax_columns(z: np.ndarray) -> np.ndarray:
    """Softmax over the rows of ``(m, n)`` logits (one column per agent), via log-sum-exp."""
    z = np.ascontiguousarray(z)  # reductions over a short contiguous axis are slow
    e = np.exp(z - z.max(axis=0))
    e /= e.sum(axis=0)
    return cast(np.ndarray, e)


class _NewtonSystem:
    """The Jacobian of the QRE equations in centred logits and a direct solver for it.

    Unknowns: w_k ∈ R^{m−1}, the coordinates of agent k's logits in an orthonormal basis U of
    the vectors summing to 0 (logits are defined up to a constant), stored ``(m − 1, n)``.
    Equations: G_k(w) = T_k·w_k − Uᵀ r_k(x) = 0 with x_l = softmax(U w_l) — exactly the QRE.
    Their Jacobian has T_k·I on the diagonal and, for each edge (k, l),
    −Uᵀ A^{kl} (diag(x_l) − x_l x_lᵀ) U: as sparse as the graph. It is solved densely when the
    game is small, else by cyclic reduction when the graph is a path (the chain): in the
    path's order the Jacobian is block tridiagonal, and odd–even elimination solves it in
    log₂ n vectorized rounds.
    """

    def __init__(self, game: PolymatrixGame, order: np.ndarray | None) -> None:
        m = game.n_actions
        basis, _, _ = np.linalg.svd(np.eye(m) - 1.0 / m)
        self.basis = np.ascontiguousarray(basis[:, : m - 1])  # U: (m, d)
        self.game, self.n, self.d = game, game.n_agents, m - 1
        # (Uᵀ A^e)[a, j] for every edge, as d·m vectors over the edges
        self.left = np.einsum("ia,ijE->ajE", self.basis, game.entries)  # (d, m, E)
        self.order = order
        if order is not None:  # path: where each directed edge sits in the tridiagonal
            position = np.empty(self.n, dtype=np.int64)
            position[order] = np.arange(self.n)
            self.row = position[game.src]
            self.upper = position[game.dst] == self.row + 1

    def logits(self, w: np.ndarray) -> np.ndarray:
        """U·w, ``(m, n)`` (sums over the short axes written out: BLAS is slow on them)."""
        return _small_product(self.basis, w)

    def evaluate(self, w: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The profile x, its payoff columns r and the equations' values G at ``w``."""
        x = softmax_columns(self.logits(w))
        r = self.game.payoff_columns(x)
        return x, r, t * w - _small_product(self.basis.T, r)

    def step(self, x: np.ndarray, t: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The Newton step Δ ``(d, n)`` solving J·Δ = −g at the profile ``x`` ``(m, n)``."""
        u, d, m = self.basis, self.d, self.game.n_actions
        # (diag(x_l) − x_l x_lᵀ) U, entry [j, b] per agent: x_lj·(U_jb − ⟨x_l, U_b⟩)
        means = _small_product(u.T, x)  # (d, n)
        spread = [[(x[j] * (u[j, b] - means[b])).take(self.game.dst) for b in range(d)]
                  for j in range(m)]
        blocks = np.empty((len(self.game.src), d, d))
        for a in range(d):
            for b in range(d):
                total = self.left[a, 0] * spread[0][b]
                for j in range(1, m):
                    total += self.left[a, j] * spread[j][b]
                blocks[:, a, b] = -total
        if self.order is None:
            full = np.zeros((self.n, self.n, d, d))
            np.add.at(full, (self.game.src, self.game.dst), blocks)
            full[np.arange(self.n), np.arange(self.n)] += t[:, None, None] * np.eye(d)
            matrix = full.transpose(0, 2, 1, 3).reshape(self.n * d, self.n * d)
            return np.linalg.solve(matrix, -g.T.ravel()).reshape(self.n, d).T
        lower = np.zeros((self.n, d, d))
        upper = np.zeros((self.n, d, d))
        upper[self.row[self.upper]] = blocks[self.upper]  # one edge per adjacent pair
        lower[self.row[~self.upper]] = blocks[~self.upper]
        diagonal = t[self.order][:, None, None] * np.eye(d)
        rhs = -g.T[self.order]
        if d == 1:
            solution = _tridiagonal_solve(lower[:, 0, 0], diagonal[:, 0, 0], upper[:, 0, 0],
                                          rhs[:, 0])[:, None]
        else:
            solution = _block_tridiagonal_solve(lower, diagonal, upper, rhs)
        out = np.empty((self.n, d))
        out[self.order] = solution
        return np.ascontiguousarray(out.T)


def newton_system(game: PolymatrixGame) -> _NewtonSystem | None:
    """A Newton system for the game if its Jacobian can be solved directly, else None."""
    order = path_order(game)
    if order is not None and game.n_agents > 1:
        return _NewtonSystem(game, order)
    if game.n_agents * (game.n_actions - 1) <= NEWTON_DENSE_LIMIT:
        return _NewtonSystem(game, None)
    return None


def path_order(game: PolymatrixGame) -> np.ndarray | None:
    """The agents in order along the graph if it is one path (each edge stored in both
    directions, as :class:`PolymatrixGame` does), else None."""
    n, half = game.n_agents, len(game.src) // 2
    if n == 1 or half != n - 1:
        return None
    a, b = game.src[:half], game.dst[:half]
    if not np.array_equal(np.sort(game.src[half:]), np.sort(b)):
        return None
    if np.array_equal(np.minimum(a, b), np.arange(n - 1)) and np.array_equal(
            np.maximum(a, b), np.arange(1, n)):
        return np.arange(n)  # the chain as built: edge k joins k and k + 1
    degree = np.bincount(np.concatenate([a, b]), minlength=n)
    if degree.max() > 2:
        return None
    neighbours = np.full((n, 2), -1, dtype=np.int64)
    for k, l_ in zip(a.tolist(), b.tolist(), strict=True):  # only for relabelled paths
        neighbours[k, int(neighbours[k, 0] >= 0)] = l_
        neighbours[l_, int(neighbours[l_, 0] >= 0)] = k
    ends = np.flatnonzero(degree == 1)
    if len(ends) != 2:
        return None
    order = [int(ends[0])]
    previous = -1
    while len(order) < n:
        here = order[-1]
        nxt = int(neighbours[here, 0] if neighbours[here, 0] != previous else neighbours[here, 1])
        if nxt < 0:
            return None
        previous = here
        order.append(nxt)
    result = np.array(order)
    return result if len(np.unique(result)) == n else None


def _block_tridiagonal_solve(
    lower: np.ndarray, diagonal: np.ndarray, upper: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """Solve the block tridiagonal system lower_i·y_{i−1} + diagonal_i·y_i + upper_i·y_{i+1} =
    rhs_i (blocks ``(N, d, d)``, ``rhs`` ``(N, d)``) by odd–even (cyclic) reduction: eliminate
    the odd-indexed unknowns, solve the half-size system of the even ones, substitute back."""
    size, d = diagonal.shape[:2]
    if size == 1:
        return np.linalg.solve(diagonal[0], rhs[0])[None]
    odd = np.concatenate([lower[1::2], upper[1::2], rhs[1::2, :, None]], axis=2)
    solved = _solve_blocks(diagonal[1::2], odd)  # D⁻¹[L U b] of each odd unknown
    inv_lower, inv_upper, inv_rhs = solved[..., :d], solved[..., d:2 * d], solved[..., 2 * d]
    n_even, n_odd = (size + 1) // 2, size // 2
    new_diagonal = diagonal[0::2].copy()
    new_rhs = rhs[0::2].copy()
    new_lower = np.zeros_like(new_diagonal)
    new_upper = np.zeros_like(new_diagonal)
    # even 2e couples to odd e − 1 on its left (e ≥ 1) and to odd e on its right (e < n_odd)
    left = lower[0::2][1:]
    new_diagonal[1:] -= left @ inv_upper[: n_even - 1]
    new_lower[1:] = -(left @ inv_lower[: n_even - 1])
    new_rhs[1:] -= np.einsum("eij,ej->ei", left, inv_rhs[: n_even - 1])
    right = upper[0::2][:n_odd]
    new_diagonal[:n_odd] -= right @ inv_lower
    new_upper[:n_odd] = -(right @ inv_upper)
    new_rhs[:n_odd] -= np.einsum("eij,ej->ei", right, inv_rhs)
    even = _block_tridiagonal_solve(new_lower, new_diagonal, new_upper, new_rhs)
    out = np.empty_like(rhs)
    out[0::2] = even
    after = np.zeros((n_odd, d))
    after[: n_even - 1 if size % 2 else n_odd - 1] = even[1:]
    out[1::2] = (inv_rhs - np.einsum("eij,ej->ei", inv_lower, even[:n_odd])
                 - np.einsum("eij,ej->ei", inv_upper, after))
    return out


def _tridiagonal_solve(
    lower: np.ndarray, diagonal: np.ndarray, upper: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """:func:`_block_tridiagonal_solve` for 1×1 blocks (two actions), on plain vectors."""
    size = len(diagonal)
    if size == 1:
        return cast(np.ndarray, rhs / diagonal)
    inv_lower, inv_upper = lower[1::2] / diagonal[1::2], upper[1::2] / diagonal[1::2]
    inv_rhs = rhs[1::2] / diagonal[1::2]
    n_even, n_odd = (size + 1) // 2, size // 2
    new_diagonal, new_rhs = diagonal[0::2].copy(), rhs[0::2].copy()
    new_lower, new_upper = np.zeros(n_even), np.zeros(n_even)
    left = lower[0::2][1:]
    new_diagonal[1:] -= left * inv_upper[: n_even - 1]
    new_lower[1:] = -left * inv_lower[: n_even - 1]
    new_rhs[1:] -= left * inv_rhs[: n_even - 1]
    right = upper[0::2][:n_odd]
    new_diagonal[:n_odd] -= right * inv_lower
    new_upper[:n_odd] = -right * inv_upper
    new_rhs[:n_odd] -= right * inv_rhs
    even = _tridiagonal_solve(new_lower, new_diagonal, new_upper, new_rhs)
    out = np.empty_like(rhs)
    out[0::2] = even
    after = np.zeros(n_odd)
    after[: n_even - 1 if size % 2 else n_odd - 1] = even[1:]
    out[1::2] = inv_rhs - inv_lower * even[:n_odd] - inv_upper * after
    return out


def _solve_blocks(blocks: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Batched solves; 1×1 blocks (two actions) by division."""
    if blocks.shape[1] == 1:
        return cast(np.ndarray, rhs / blocks)
    return np.linalg.solve(blocks, rhs)


def _small_product(matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``matrix @ rows`` for a small matrix and long rows, one row at a time."""
    out = np.empty((matrix.shape[0], rows.shape[1]))
    for a in range(matrix.shape[0]):
        out[a] = matrix[a, 0] * rows[0]
        for j in range(1, matrix.shape[1]):
            out[a] += matrix[a, j] * rows[j]
    return out


def newton_homotopy(
    game: PolymatrixGame, system: _NewtonSystem, z: np.ndarray, t: np.ndarray, tol: float,
    budget: int,
) -> tuple[np.ndarray, int, float]:
    """Damped Newton along an adaptive temperature homotopy; ``(logits, steps, scale)``.

    The first stage solves at temperatures T·s with s = 2L/T_min (about uniform play) from the
    start; each later stage divides s by a factor (4 at first, doubled after a stage that took
    at most 4 steps, up to 64; a stage that fails — more than NEWTON_STAGE_STEPS steps, no
    decrease of ‖G‖ along the Newton direction, or a non-finite step — is retried from the
    last solution with the square root of the factor). Intermediate stages are solved to 1e-6,
    the last (s = 1) to ``tol``. Returns the last solved scale (1.0 when done): the
    extragradient fallback continues from there.
    """
    w = _small_product(system.basis.T, z - z.mean(axis=0))  # (d, n)
    solved = target = max(1.0, 2.0 * max(game.lipschitz(), 1e-12) / float(t.min()))
    factor, used, first = NEWTON_SCALE_FACTOR, 0, True
    while True:
        final = target == 1.0
        limit = 4 * NEWTON_STAGE_STEPS if first else NEWTON_STAGE_STEPS
        reached, steps, residual = _newton_stage(system, w, t * target, tol if final else 1e-6,
                                                 min(limit, budget - used))
        used += steps
        if residual <= (tol if final else 1e-6):
            w, solved, first = reached, target, False
            if final:
                return system.logits(w), used, 1.0
            if steps <= 4:
                factor = min(factor * 2.0, NEWTON_MAX_FACTOR)
        else:
            if final and residual < 1e-6:  # at the end, stuck near rounding: polish by EG
                return system.logits(reached), used, 1.0
            factor = np.sqrt(factor)
            if first or factor < 1.05 or used >= budget:
                return system.logits(w), used, solved
        target = max(1.0, solved / factor)


def _newton_stage(
    system: _NewtonSystem, w: np.ndarray, t: np.ndarray, tol: float, steps: int
) -> tuple[np.ndarray, int, float]:
    """Damped Newton at fixed temperatures ``t`` from ``w``, at most ``steps`` steps, until
    max |x − softmax(r/T)| ≤ ``tol``; returns the last iterate, the steps taken and its
    residual (inf if a step was non-finite)."""
    x, r, g = system.evaluate(w, t)
    for taken in range(steps + 1):
        residual = float(np.abs(x - softmax_columns(r / t)).max())
        if residual <= tol or taken == steps:
            return w, taken, residual
        with np.errstate(all="ignore"):
            delta = system.step(x, t, g)
        if not np.isfinite(delta).all():
            return w, taken + 1, np.inf
        norm, alpha = float(np.linalg.norm(g)), 1.0
        while True:
            trial = w + alpha * delta
            tx, tr, tg = system.evaluate(trial, t)
            if np.linalg.norm(tg) <= (1.0 - 1e-4 * alpha) * norm:
                w, x, r, g = trial, tx, tr, tg
                break
            alpha /= 2.0
            if alpha < 1e-6:
                return w, taken + 1, residual
    return w, steps, residual
