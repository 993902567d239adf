"""The classical students: models, the KD loss, the grid runner, result tables and the stage."""

from .grid import GridPlan, StudentJob, run_grid, train_student
from .inputs import StudentData
from .kd import binary_kl, kd_loss
from .models import CNN1D, STUDENT_LABELS, ResNet1D, build_student
from .stage import (
    classical_jobs,
    finished_classical_grid,
    grid_plan,
    main_and_ablation,
    run_classical_grid,
    student_settings,
    student_widths,
    targets_study,
    targets_table,
)
from .tables import (
    RUN_COLUMNS,
    best_cell_by_seed,
    by_temperature,
    gain_table,
    paired_summary,
    rhythm_table,
    summary_table,
)

__all__ = [
    "CNN1D",
    "GridPlan",
    "RUN_COLUMNS",
    "ResNet1D",
    "STUDENT_LABELS",
    "StudentData",
    "StudentJob",
    "best_cell_by_seed",
    "binary_kl",
    "build_student",
    "by_temperature",
    "classical_jobs",
    "finished_classical_grid",
    "gain_table",
    "grid_plan",
    "kd_loss",
    "main_and_ablation",
    "paired_summary",
    "rhythm_table",
    "run_classical_grid",
    "run_grid",
    "student_settings",
    "student_widths",
    "summary_table",
    "targets_study",
    "targets_table",
    "train_student",
]
