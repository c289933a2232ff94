"""The train loop, its typed results, callbacks and run folders."""

from populace.train.callbacks import Callback, CSVLogger, EarlyStopping, FunctionCallback
from populace.train.checkpoint import RunFolder, load_checkpoint, save_checkpoint
from populace.train.checks import unwrap_core
from populace.train.loop import train
from populace.train.progress import ProgressBar
from populace.train.results import COLUMNS, History, MetricsRow, RunContext, Timings, TrainResult
from populace.train.scores import payoff_estimates

__all__ = [
    "COLUMNS",
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
    "payoff_estimates",
    "save_checkpoint",
    "train",
    "unwrap_core",
]
