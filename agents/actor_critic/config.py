"""Every option of actor-critic fictitious play in one frozen dataclass, and the flat keywords
that the CLI, the sweeps and the reproductions pass mapped onto it.

:class:`ActorCriticConfig` holds the options every learner has (inputs, exploration, criterion,
step sizes, centering) and three swappable pieces, each carrying its own options: the actor
(:mod:`.actors`), the critic (:mod:`.critics`) and the advantage (:mod:`.advantage`). An option
that a piece would ignore is not a field of it, so it cannot be set there.

:meth:`ActorCriticConfig.from_keywords` reads the flat keywords of
``make_learner("ac_fp", core, **keywords)``: ``actor``, ``components``, ``critic`` and
``advantage`` choose the pieces, and ``hidden``, ``init_scale``, ``output_scale``,
``batch_rounds`` and ``gae_lambda`` go to whichever chosen piece has them; one that none has is
an error naming it.

>>> config = ActorCriticConfig.from_keywords(actor="mlp", critic="mlp", hidden=[8])
>>> config.actor, config.critic
(MLPGaussian(hidden=(8,), output_scale=None), MLPCritic(hidden=(8,), output_scale=None))
>>> ActorCriticConfig.from_keywords(advantage="gae", batch_rounds=3)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: batch_rounds=3 has no effect with the chosen pieces (...); it is an option of TD
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, TypeVar

import numpy as np

from populace.agents.actor_critic.actors import (
    ActorChoice,
    LinearGaussian,
    LinearTrunk,
    Mixture,
    MLPGaussian,
    MLPTrunk,
)
from populace.agents.actor_critic.advantage import GAE, TD, AdvantageChoice
from populace.agents.actor_critic.critics import CriticChoice, MLPCritic, QuadraticCritic
from populace.envs.validation import check_choice, check_int, check_number

INPUTS = ("offset", "joint")
ACTORS = ("linear", "mlp")
CRITICS = ("quadratic", "mlp")
OPTIMIZERS = ("adam", "sgd")
ADVANTAGES = ("td", "gae")
DEFAULT_STD = float(np.sqrt(0.1))  # MJM: "a Gaussian output with variance 0.1"

# The flat keywords that choose a piece, and those that set a piece's options.
CHOOSERS = ("actor", "components", "critic", "advantage")
PIECE_OPTIONS = ("hidden", "init_scale", "output_scale", "batch_rounds", "gae_lambda")
PIECES: tuple[type, ...] = (LinearGaussian, MLPGaussian, Mixture, LinearTrunk, MLPTrunk,
                            QuadraticCritic, MLPCritic, TD, GAE)

__all__ = ["ACTORS", "ADVANTAGES", "CHOOSERS", "CRITICS", "DEFAULT_STD", "INPUTS", "KEYWORDS",
           "OPTIMIZERS", "PIECE_OPTIONS", "ActorCriticConfig"]


@dataclass(frozen=True)
class ActorCriticConfig:
    """The options of :class:`~populace.agents.actor_critic.fictitious_play.
    ActorCriticFictitiousPlay` (its module docstring explains each idea).

    ``state_size``, ``inputs`` and ``initial_belief`` are checked against the observations
    when a learner is built; everything else here.
    """

    state_size: int | None = None
    """how many leading observation entries are the agent's own state (None: half of them)"""
    inputs: str | None = None
    """"offset" (z = x − m̂) or "joint" (z = [x, m̂]); None: offset when x and m̄ have one size"""
    actor: ActorChoice = LinearGaussian()
    """the policy: LinearGaussian, MLPGaussian or Mixture (:mod:`.actors`)"""
    critic: CriticChoice = QuadraticCritic()
    """the value: QuadraticCritic or MLPCritic (:mod:`.critics`)"""
    advantage: AdvantageChoice = TD()
    """TD (MJM: δ, a step every few rounds) or GAE (a step per episode; :mod:`.advantage`)"""
    action_std: float = DEFAULT_STD
    """exploration standard deviation s > 0 of every action coordinate (the start, if learned)"""
    learn_std: bool = False
    """learn log s by the policy gradient, one per coordinate (per component for a mixture)"""
    discount: float = 1.0
    """γ in (0, 1]; 1 is the average-reward criterion"""
    actor_rate: float = 0.02
    """initial step size α of the actor"""
    critic_rate: float = 0.02
    """initial step size of the critic"""
    average_rate: float = 0.01
    """initial step size of the average reward ρ (average-reward criterion)"""
    belief_rate: float = 0.1
    """initial step size β in (0, 1] of the belief"""
    actor_decay: float = 0.6
    """exponent of the actor's schedule rate/(1 + n/horizon)^decay"""
    critic_decay: float = 0.5
    """exponent of the critic's and ρ's schedule; at most actor_decay (the faster scale)"""
    belief_decay: float = 0.9
    """exponent of the belief's schedule; above actor_decay (β/α → 0)"""
    horizon: float = 1000.0
    """updates over which the actor's, critic's and ρ's steps start to decay (> 0)"""
    belief_horizon: float = 10.0
    """the same for the belief's steps (> 0)"""
    optimizer: str = "adam"
    """"adam" (MJM) or "sgd", for the actor and the critic"""
    normalize_rate: float | None = None
    """rate in (0, 1] of the running mean that centres the inputs; None: no centering"""
    initial_belief: tuple[float, ...] | None = None
    """the belief every agent starts with; None: its first observed statistic"""

    def __post_init__(self) -> None:
        checked = {
            "state_size": None if self.state_size is None else check_int(
                "state_size", self.state_size, minimum=1),
            "inputs": None if self.inputs is None else check_choice("inputs", self.inputs,
                                                                   INPUTS),
            "action_std": check_number("action_std", self.action_std, low=0.0, low_open=True),
            "learn_std": _check_bool("learn_std", self.learn_std),
            "discount": check_number("discount", self.discount, low=0.0, high=1.0,
                                     low_open=True),
            **{name: check_number(name, getattr(self, name), low=0.0, low_open=True)
               for name in ("actor_rate", "critic_rate", "average_rate", "horizon",
                            "belief_horizon")},
            "belief_rate": check_number("belief_rate", self.belief_rate, low=0.0, high=1.0,
                                        low_open=True),
            **_check_decays(self.actor_decay, self.critic_decay, self.belief_decay),
            "optimizer": check_choice("optimizer", self.optimizer, OPTIMIZERS),
            "normalize_rate": None if self.normalize_rate is None else check_number(
                "normalize_rate", self.normalize_rate, low=0.0, high=1.0, low_open=True),
            "initial_belief": _check_belief(self.initial_belief),
        }
        for name, pieces in (("actor", (LinearGaussian, MLPGaussian, Mixture)),
                             ("critic", (QuadraticCritic, MLPCritic)), ("advantage", (TD, GAE))):
            if not isinstance(getattr(self, name), pieces):
                raise TypeError(f"{name} must be one of {[p.__name__ for p in pieces]}, got "
                                f"{getattr(self, name)!r}")
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ flat keywords
    @classmethod
    def from_keywords(cls, *, actor: str = "linear", components: int = 1,
                      critic: str = "quadratic", advantage: str = "td",
                      **keywords: object) -> ActorCriticConfig:
        """The config the flat keywords of ``make_learner("ac_fp", ...)`` describe (None, or a
        keyword left out, means the default). A piece option that no chosen piece has is a
        ValueError naming it."""
        given = {k: v for k, v in keywords.items() if v is not None}
        options = {k: given.pop(k) for k in PIECE_OPTIONS if k in given}
        chosen_actor = _actor(actor, components, options)
        chosen_critic = _take(_CRITICS[check_choice("critic", critic, CRITICS)], options)
        chosen_advantage = _take(_ADVANTAGES[check_choice("advantage", advantage, ADVANTAGES)],
                                 options)
        pieces = (chosen_actor, chosen_critic, chosen_advantage)
        taken = {name for piece in pieces for name in _option_names(piece)}
        for name in options:
            if name not in taken:
                owners = [p.__name__ for p in PIECES if name in _field_names(p)]
                raise ValueError(
                    f"{name}={options[name]!r} has no effect with the chosen pieces "
                    f"({', '.join(map(repr, pieces))}); it is an option of "
                    f"{_listed(owners)}"
                )
        build: Callable[..., ActorCriticConfig] = cls  # the fields check the rest of ``given``
        return build(actor=chosen_actor, critic=chosen_critic, advantage=chosen_advantage,
                     **given)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able: every field, each piece as ``{"kind": its class, **its options}``."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


KEYWORDS = (*(f.name for f in fields(ActorCriticConfig) if f.name not in CHOOSERS),
            *CHOOSERS, *PIECE_OPTIONS)
"""Every flat keyword :meth:`ActorCriticConfig.from_keywords` reads."""

_CRITICS: dict[str, type[CriticChoice]] = {"quadratic": QuadraticCritic, "mlp": MLPCritic}
_ADVANTAGES: dict[str, type[AdvantageChoice]] = {"td": TD, "gae": GAE}
Piece = TypeVar("Piece")


def _actor(kind: str, components: int, options: dict[str, Any]) -> ActorChoice:
    kind = check_choice("actor", kind, ACTORS)
    if check_int("components", components, minimum=1) == 1:
        if kind == "linear":
            return _take(LinearGaussian, options)
        return _take(MLPGaussian, options)
    trunk: LinearTrunk | MLPTrunk = (_take(LinearTrunk, options) if kind == "linear"
                                     else _take(MLPTrunk, options))
    return Mixture(components=components, trunk=trunk)


def _listed(names: list[str]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]]))


def _take(piece: type[Piece], options: dict[str, Any]) -> Piece:
    """``piece`` built from the options that are its fields."""
    return piece(**{name: options[name] for name in _field_names(piece) if name in options})


def _field_names(piece: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(piece))


def _option_names(piece: object) -> set[str]:
    """The flat options a built piece took (a mixture's include its trunk's)."""
    names = set(_field_names(type(piece)))
    if isinstance(piece, Mixture):
        names |= set(_field_names(type(piece.trunk)))
    return names


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {"kind": type(value).__name__,
                **{f.name: _plain(getattr(value, f.name)) for f in fields(value)}}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def _check_decays(actor: float, critic: float, belief: float) -> dict[str, float]:
    decays = {name: check_number(name, value, low=0.0, high=1.0)
              for name, value in (("actor_decay", actor), ("critic_decay", critic),
                                  ("belief_decay", belief))}
    if decays["belief_decay"] <= decays["actor_decay"]:
        raise ValueError(
            f"belief_decay ({belief!r}) must exceed actor_decay ({actor!r}): the belief moves "
            "on the slower time scale, β(n)/α(n) → 0"
        )
    if decays["critic_decay"] > decays["actor_decay"]:
        raise ValueError(
            f"critic_decay ({critic!r}) must not exceed actor_decay ({actor!r}): the critic "
            "learns on the faster time scale"
        )
    return decays


def _check_belief(value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    belief = np.asarray(value, dtype=np.float64)
    if belief.ndim != 1 or not np.isfinite(belief).all():
        raise ValueError(f"initial_belief must be finite numbers, got {value!r}")
    return tuple(float(b) for b in belief)

