"""Network zero-sum polymatrix games (LPS 2021): the game, its graph, and its QRE/Nash solvers."""
