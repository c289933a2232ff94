"""Draw each registered game as its ``rgb_array`` render shows it, for the documentation site.

``make docs`` runs this before ``mkdocs build``: every game in :data:`GAMES` is built at its
defaults through its PettingZoo face, played for a few seeded rounds of uniformly random
actions, and its frame is written to ``docs/images/<game>.png`` (gitignored). PNG files are
written with the standard library (zlib), so the script needs no plotting package.

    python docs/render_images.py [OUT_DIR]
"""

from __future__ import annotations

import importlib
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

from populace.envs.registry import GAMES, module_path

ROUNDS = 5
OUT_DIR = Path(__file__).parent / "images"


def png_bytes(frame: np.ndarray) -> bytes:
    """An RGB ``uint8`` frame of shape (height, width, 3) as the bytes of a PNG file."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected a (height, width, 3) uint8 frame, got {frame.shape} "
                         f"{frame.dtype}")
    height, width, _ = frame.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), frame.reshape(height, -1)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + chunk(b"IEND", b""))


def game_frame(module: str, rounds: int = ROUNDS, seed: int = 0) -> np.ndarray:
    """The ``rgb_array`` frame of ``module`` at its defaults after ``rounds`` random rounds."""
    game = importlib.import_module(module_path(module))
    env = game.parallel_env(render_mode="rgb_array")
    env.reset(seed=seed)
    for index, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(seed + index)  # each agent its own random stream
    for _ in range(rounds):
        if not env.agents:
            env.reset(seed=seed)
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})
    frame = np.asarray(env.render())
    env.close()
    return frame


def main(out_dir: Path = OUT_DIR) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for module in GAMES:
        path = out_dir / f"{module}.png"
        path.write_bytes(png_bytes(game_frame(module)))
        print(f"wrote {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR)
