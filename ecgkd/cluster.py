"""Where the T x alpha grids run: local joblib workers (the default), or a Dask cluster through
joblib's ``dask`` backend when ``ECGKD_CLUSTER`` (or the CLI's ``--cluster``) names its scheduler.

Nothing else changes: the same jobs, the same seeds, each run on one thread, so a cluster gives
the rows a local run gives. The student data (windows, rhythm features, teacher logits) are
scattered to every worker once, not sent with each run. Workers write each run's weights under the
cache folder, so that folder must be on a filesystem they share with this machine (as on most
Slurm clusters; on Kubernetes, a shared volume); :func:`grid_backend` checks it before any run.

Pointing the grids at a cluster, e.g. one started by dask-jobqueue on Slurm::

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=1, processes=1, memory="4GB"); cluster.scale(jobs=32)
    # then: ECGKD_CLUSTER=<cluster.scheduler_address> python -m ecgkd --full
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .config import ConfigError

INSTALL = "pip install -e '.[cluster]'"


@contextmanager
def grid_backend(
    address: str | None, n_jobs: int, scatter: Sequence[object], shared: Path
) -> Iterator[int]:
    """Run the ``joblib.Parallel`` calls inside on the Dask cluster at ``address`` (None: local
    workers, as before), with ``scatter`` sent to every worker once. Yields the ``n_jobs`` to pass
    to ``Parallel``: ``n_jobs`` locally, every worker's cores on a cluster.

    ``shared``: a folder the workers must see (where they write weights); checked first.
    """
    if not address:
        yield n_jobs
        return
    try:
        from dask.distributed import Client
        from joblib import parallel_config
    except ImportError as error:
        raise ConfigError(
            f"ECGKD_CLUSTER={address!r} needs Dask's distributed scheduler: {INSTALL}"
        ) from error
    with Client(address, set_as_default=False) as client:
        seen = client.run(os.path.isdir, str(Path(shared).resolve()))
        blind = sorted(worker for worker, ok in seen.items() if not ok)
        if not seen or blind:
            raise ConfigError(
                f"ECGKD_CLUSTER={address!r}: {len(blind) or 'no'} worker(s) "
                f"{'cannot see' if blind else 'to write'} {shared} ({', '.join(blind)}); the "
                "grids' weights are written there: put ECGKD_CACHE on a filesystem the workers "
                "share, and start at least one worker"
            )
        with parallel_config(backend="dask", client=client, scatter=list(scatter)):
            yield -1
