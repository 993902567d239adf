"""The teacher: ECGFounder's Net1D and its official checkpoint format."""

from .checkpoint import CheckpointError, LoadReport, load_ecgfounder, save_checkpoint
from .net1d import Net1D, Net1DConfig, count_parameters, ecgfounder_config, scaled_config, used_parameters

__all__ = [
    "CheckpointError", "LoadReport", "Net1D", "Net1DConfig", "count_parameters", "ecgfounder_config",
    "load_ecgfounder", "save_checkpoint", "scaled_config", "used_parameters",
]
