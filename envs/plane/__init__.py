"""Games on the plane (MJM 2018): spatial congestion and supply with uncertain demand, their
kernel density, rewards, grid mean-field equilibria, metrics and pictures."""
