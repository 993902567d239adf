"""The teacher: ECGFounder's Net1D, its official checkpoint format, fine-tuning and cached
outputs."""

from .checkpoint import CheckpointError, LoadReport, load_ecgfounder, save_checkpoint
from .finetune import (
    ECGFOUNDER,
    STAND_IN,
    TeacherRun,
    TeacherSpec,
    ZeroShot,
    build_teacher,
    stand_in_note,
    teacher_spec,
    train_teacher,
)
from .inputs import teacher_inputs, teacher_length, teacher_transform
from .net1d import Net1D, Net1DConfig, ecgfounder_config, scaled_config, used_parameters
from .outputs import StaleOutputsError, TeacherOutputs, load_outputs, teacher_outputs
from .stage import PreparedTeacher, prepare_teacher

__all__ = [
    "CheckpointError",
    "ECGFOUNDER",
    "LoadReport",
    "Net1D",
    "Net1DConfig",
    "STAND_IN",
    "StaleOutputsError",
    "TeacherOutputs",
    "TeacherRun",
    "TeacherSpec",
    "PreparedTeacher",
    "ZeroShot",
    "build_teacher",
    "ecgfounder_config",
    "load_ecgfounder",
    "load_outputs",
    "prepare_teacher",
    "save_checkpoint",
    "scaled_config",
    "stand_in_note",
    "teacher_inputs",
    "teacher_length",
    "teacher_outputs",
    "teacher_spec",
    "teacher_transform",
    "train_teacher",
    "used_parameters",
]
