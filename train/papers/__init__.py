"""The paper reproductions: one module per paper experiment, the registry of them, and the
shared jobs, claims and figures they are built from."""
