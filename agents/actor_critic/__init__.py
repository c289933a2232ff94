"""Actor-critic fictitious play (MJM 2018): the learner (:mod:`.fictitious_play`), its options
as one config (:mod:`.config`) made of swappable pieces — the actor (:mod:`.actors`: linear or
MLP Gaussian, or a mixture, :mod:`.mixture`), the critic (:mod:`.critics`) and the advantage
(:mod:`.advantage`: TD or GAE) — and their torch building blocks (:mod:`.networks`)."""
