"""The mean-field linear-quadratic game (MJM 2018, Bardi 2012): the game, its exact Riccati
reference, metrics, finite-population gap and pictures."""
