import os
from pathlib import Path

import numpy as np
import pytest
import torch

from ecgkd.config import ConfigError, load, project_root, seed_everything


def test_defaults_are_quick_mode_on_the_sample_and_repo_folders():
    cfg = load(env={})
    assert cfg.quick is True and cfg.mode == "quick"
    assert cfg.data_root == (project_root() / "data").resolve()
    assert cfg.cache_root == (project_root() / "cache").resolve()
    assert cfg.seed == 0 and cfg.device in ("cpu", "cuda")
    assert cfg.n_jobs == ((os.cpu_count() or 1) if cfg.device == "cpu" else 1)


@pytest.mark.parametrize(
    "value, quick", [("1", True), ("true", True), ("YES", True), ("0", False), ("off", False)]
)
def test_quick_values(value, quick):
    assert load(env={"ECGKD_QUICK": value}).quick is quick


@pytest.mark.parametrize(
    "env, needle",
    [
        ({"ECGKD_QUICK": "maybe"}, "ECGKD_QUICK='maybe'"),
        ({"ECGKD_SEED": "-1"}, "ECGKD_SEED"),
        ({"ECGKD_SEED": "abc"}, "ECGKD_SEED='abc' is not a whole number"),
        ({"ECGKD_JOBS": "0"}, "ECGKD_JOBS"),
        ({"ECGKD_DEVICE": "tpu"}, "ECGKD_DEVICE='tpu'"),
    ],
)
def test_invalid_values_name_the_variable(env, needle):
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        load(env=env)


def test_mode_follows_the_data_unless_quick_is_set(tmp_path: Path):
    folder = str(tmp_path)
    assert load(env={"ECGKD_DATA": folder}).quick is False  # a data folder named: the experiment
    assert load(env={"ECGKD_DATA": folder, "ECGKD_QUICK": "1"}).quick is True
    assert load(env={"ECGKD_QUICK": "0"}).quick is False
    assert load(env={"ECGKD_QUICK": ""}).quick is True  # empty counts as unset
    assert load(env={}, data_root=tmp_path).quick is False  # the CLI's --data
    assert load(env={}, data_root=tmp_path, quick=True).quick is True


def test_progress_bars_switch(monkeypatch):
    from ecgkd.config import progress_enabled
    from ecgkd.progress import progress_bar

    assert progress_enabled({}) is True and progress_enabled({"ECGKD_PROGRESS": "0"}) is False
    with pytest.raises(ConfigError, match="ECGKD_PROGRESS='sometimes'"):
        progress_enabled({"ECGKD_PROGRESS": "sometimes"})
    items = [1, 2]
    monkeypatch.setenv("ECGKD_PROGRESS", "0")
    assert progress_bar(items, "x") is items  # off: the iterable itself, nothing drawn
    monkeypatch.setenv("ECGKD_PROGRESS", "1")
    assert progress_bar(items, "x") is not items and list(progress_bar(items, "x")) == items


def test_missing_data_folder_is_a_clear_error(tmp_path: Path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match="nowhere.*mitdb/ and ptb-xl/"):
        load(env={"ECGKD_DATA": str(missing)})


def test_data_and_cache_from_environment(tmp_path: Path):
    cfg = load(
        env={"ECGKD_DATA": str(tmp_path), "ECGKD_CACHE": str(tmp_path / "c"), "ECGKD_SEED": "7"}
    )
    assert (
        cfg.data_root == tmp_path.resolve()
        and cfg.cache_root == (tmp_path / "c").resolve()
        and cfg.seed == 7
    )
    assert cfg.with_(seed=3).seed == 3


def test_folder_overrides_given_as_text_become_paths(tmp_path: Path):
    cfg = load(env={}, cache_root=str(tmp_path / "c"), data_root=str(tmp_path))
    assert cfg.cache_root == (tmp_path / "c").resolve() and isinstance(cfg.cache_root, Path)
    assert cfg.data_root == tmp_path.resolve() and not cfg.quick  # a data folder named: full mode
    assert load(env={}, cache_root=tmp_path).cache_root / "results" == tmp_path / "results"


def test_cuda_request_without_gpu_is_an_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ConfigError, match="sees none"):
        load(env={"ECGKD_DEVICE": "cuda"})


def test_seeding_reproduces_numbers():
    seed_everything(5)
    a = (np.random.rand(3), torch.rand(3))
    seed_everything(5)
    b = (np.random.rand(3), torch.rand(3))
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ConfigError):
        seed_everything(-1)


def test_seeding_asks_torch_for_deterministic_kernels_without_loading_its_compiler():
    """seed_everything sets torch's deterministic flag (warnings only) as
    torch.use_deterministic_algorithms does, without that call's import of torch._dynamo (0.8 s
    in every process that seeds: each notebook kernel, each grid worker)."""
    import subprocess
    import sys

    code = (
        "import sys, torch\n"
        "from ecgkd.config import seed_everything\n"
        "seed_everything(0)\n"
        "print(torch.are_deterministic_algorithms_enabled(),\n"
        "      torch.is_deterministic_algorithms_warn_only_enabled(),\n"
        "      'torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "False"], out.stdout + out.stderr


def test_the_grids_may_train_elsewhere_than_the_teacher():
    """ECGKD_GRID_DEVICE: the small students' grids on the CPU cores while the teacher uses the
    device (a GPU machine with many cores); by default the grids follow ECGKD_DEVICE, and the
    default number of parallel runs follows where the grids train."""
    from ecgkd.config import default_jobs

    plain = load(env={"ECGKD_DEVICE": "cpu"})
    assert plain.grid_device is None and plain.grids_on == "cpu"
    split = load(env={"ECGKD_DEVICE": "cpu", "ECGKD_GRID_DEVICE": "cpu"})
    assert split.grids_on == "cpu" and split.n_jobs == int(default_jobs("cpu"))
    with pytest.raises(ConfigError, match="ECGKD_GRID_DEVICE"):
        load(env={"ECGKD_GRID_DEVICE": "tpu"})
