"""The train loop, its typed results, callbacks and run folders."""

from populace.envs.faces import unwrap_core
from populace.train.callbacks import Callback, CSVLogger, EarlyStopping, FunctionCallback
from populace.train.checkpoint import load_checkpoint, save_checkpoint
from populace.train.loop import train
from populace.train.progress import ProgressBar
from populace.train.results import History, MetricsRow, RunContext, Timings, TrainResult
from populace.train.run_folder import RunFolder

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "FunctionCallback",
    "History",
    "MetricsRow",
    "ProgressBar",
    "RunContext",
    "RunFolder",
    "Timings",
    "TrainResult",
    "load_checkpoint",
    "save_checkpoint",
    "train",
    "unwrap_core",
]
