"""Studies built on the loop: learner comparisons, sweeps over a grid, the finite-N gap."""
