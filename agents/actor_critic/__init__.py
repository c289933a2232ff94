"""Actor-critic fictitious play (MJM 2018): the learner, its networks and the mixture actor."""
