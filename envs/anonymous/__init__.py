"""Anonymous games (KFH 2009): payoffs depend on one's own action and the action counts.

``core`` holds the shared array core, ``equilibrium`` the symmetric-equilibrium tools; the
contribution, matrix and congestion games each have a module.
"""
