"""The grids on a Dask cluster (joblib's dask backend): a LocalCluster started here, on this
machine, gives exactly the rows of a local run, and receives the student data once."""

import math

import pandas as pd
import pytest
from dask.distributed import Client, LocalCluster

from conftest import student_data
from ecgkd import config
from ecgkd.cluster import grid_backend
from ecgkd.students.grid import StudentJob, run_grid, weights_path
from ecgkd.train import TrainSettings

SETTINGS = TrainSettings(epochs=2, batch_size=16, lr=3e-3, patience=2)
COLUMNS = ["student", "seed", "alpha", "initial_weights", "val_auroc", "test_auroc", "best_epoch"]


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


def test_a_grid_on_a_dask_cluster_gives_the_local_rows_and_gets_the_data_once(
    tmp_path, cluster, monkeypatch
):
    data = student_data()
    jobs = [
        StudentJob("mitbih", "cnn1d", math.nan, 0.0, 0),
        StudentJob("mitbih", "cnn1d", 2.0, 0.5, 0),
        StudentJob("mitbih", "cnn1d", 2.0, 0.5, 1),
    ]
    local = run_grid(jobs, data, SETTINGS, tmp_path / "local.csv", progress=False)
    sent, real_scatter = [], Client.scatter

    def scatter(self, payload, *args, **kwargs):
        sent.append(payload)
        return real_scatter(self, payload, *args, **kwargs)

    monkeypatch.setattr(Client, "scatter", scatter)
    results = tmp_path / "cluster.csv"
    remote = run_grid(
        jobs, data, SETTINGS, results, progress=False, cluster=cluster.scheduler_address
    )
    pd.testing.assert_frame_equal(
        local.sort_values(["seed", "alpha"])[COLUMNS].reset_index(drop=True),
        remote.sort_values(["seed", "alpha"])[COLUMNS].reset_index(drop=True),
        check_exact=True,
    )
    with_data = [p for p in sent if p is data or (isinstance(p, list) and data in p)]
    assert len(with_data) == 1  # scattered once for the three runs
    for key in remote["key"]:
        assert weights_path(results, key).is_file()  # written by the workers, where we read them
    # finished runs are not sent again
    monkeypatch.setattr(Client, "scatter", lambda *a, **k: pytest.fail("a finished grid ran"))
    again = run_grid(jobs, data, SETTINGS, results, progress=False, cluster="tcp://nowhere:1")
    assert len(again) == 3


def test_workers_that_cannot_see_the_cache_are_refused_with_what_to_do(tmp_path, cluster):
    missing = tmp_path / "not-shared"
    with pytest.raises(config.ConfigError, match="cannot see .*ECGKD_CACHE"):
        with grid_backend(cluster.scheduler_address, 2, [], missing):
            pass
    with grid_backend(None, 3, [], missing) as n_jobs:
        assert n_jobs == 3  # no cluster: local workers, nothing checked


def test_cluster_address_from_the_environment_or_a_clear_error(monkeypatch):
    assert config.load({"ECGKD_CLUSTER": "tcp://10.0.0.5:8786"}).cluster == "tcp://10.0.0.5:8786"
    assert config.load({}).cluster is None
    with pytest.raises(config.ConfigError, match="ECGKD_CLUSTER='my laptop'.*host:port"):
        config.load({"ECGKD_CLUSTER": "my laptop"})
