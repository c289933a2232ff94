"""The warehouse games of ALTERNATING-MARL: tabular and continuous, their model, simulator,
exact solvers and ε-Nash estimates."""
