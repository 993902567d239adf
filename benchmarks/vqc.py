"""Training speed of the 6-qubit VQC: forward + backward samples/s of three simulators, ratios from
one run.

    python benchmarks/vqc.py           # batches 256 and 4096
    python benchmarks/vqc.py --smoke   # tiny batches, one repeat: checks the script still runs (CI)

- **qiskit-ml default**: EstimatorQNN with its defaults (reference StatevectorEstimator,
  parameter-shift gradients) in a TorchConnector: one circuit per sample, two more per weight for
  the gradient. Its cost grows linearly with the batch, so it is timed on ``--qml-batch`` samples
  (default 64) and its rate is used for both batch sizes (said in the output).
- **ecgkd (torch statevector)**: :class:`ecgkd.quantum.TorchVQC`, float64, autograd.
- **PennyLane default.qubit, backprop** (when ``pip install -e '.[bench]'``): the same circuit, gate
  for gate, with parameter broadcasting over the batch, the fastest exact peer a user would pick.

All three compute the same expectations; the script prints their largest difference on one batch.
Goal from the issue: at batch 4096, >= 10x PennyLane and >= 10,000x qiskit-ml's default.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from ecgkd.quantum import TorchVQC, VQCSpec, build_vqc
from ecgkd.quantum.circuit import VQCCircuit


def qml_default(vqc: VQCCircuit):
    """qiskit-machine-learning's default path: EstimatorQNN() with no options, in a
    TorchConnector."""
    from qiskit_machine_learning.connectors import TorchConnector

    from ecgkd.quantum.model import qiskit_qnn

    qnn = qiskit_qnn(vqc)  # EstimatorQNN with its default estimator and gradient
    connector = TorchConnector(qnn, initial_weights=np.zeros(vqc.num_weights))
    return lambda x, w: (connector.weight.data.copy_(w.detach()), connector(x)[:, 0])[
        1
    ], connector.weight


def pennylane_circuit(vqc: VQCCircuit):
    """The same gates in PennyLane (None when it is not installed)."""
    try:
        import pennylane as qml
    except ImportError:
        return None
    sim = TorchVQC(vqc)
    gates = sim.encoding + sim.ansatz
    ops = {
        "ry": qml.RY,
        "rz": qml.RZ,
        "rx": qml.RX,
        "p": qml.PhaseShift,
        "h": qml.Hadamard,
        "cx": qml.CNOT,
        "cz": qml.CZ,
        "x": qml.PauliX,
    }
    n = sim.n
    device = qml.device("default.qubit", wires=n)
    z_wires = [q for q, c in enumerate(reversed(vqc.observable.paulis.to_labels()[0])) if c == "Z"]

    @qml.qnode(device, interface="torch", diff_method="backprop")
    def circuit(x, w):
        for gate in gates:
            wires = [
                n - 1 - q for q in gate.qubits
            ]  # PennyLane's wire 0 is the most significant bit
            ops[gate.name](*(fn(x, w) for fn in gate.angles), wires=wires)
        return qml.expval(qml.prod(*(qml.PauliZ(n - 1 - q) for q in z_wires)))

    return circuit


def samples_per_second(run, x: torch.Tensor, w: torch.Tensor, repeats: int) -> float:
    """Forward + backward of the summed expectations, ``repeats`` times after one warm-up."""
    run(x, w).sum().backward()
    start = time.perf_counter()
    for _ in range(repeats):
        run(x, w).sum().backward()
    return len(x) * repeats / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="tiny batches, one repeat: a check, not a measurement"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--qml-batch", type=int, default=64)
    args = parser.parse_args(argv)
    batches, repeats, qml_batch = (
        ((8, 16), 1, 2) if args.smoke else ((256, 4096), args.repeats, args.qml_batch)
    )
    vqc = build_vqc(VQCSpec())
    rng = np.random.default_rng(0)
    w0 = torch.tensor(rng.uniform(-np.pi, np.pi, vqc.num_weights))
    ours = TorchVQC(vqc)
    penny = pennylane_circuit(vqc)
    qml_run, qml_weight = qml_default(vqc)

    # Equal results first: one batch through every path.
    x = torch.tensor(rng.uniform(0, np.pi, (qml_batch, 6)))
    reference = ours.expectation(x, w0).detach().numpy()
    diffs = {"qiskit-ml default": np.abs(qml_run(x, w0).detach().numpy() - reference).max()}
    if penny is not None:
        diffs["PennyLane"] = np.abs(penny(x, w0).detach().numpy() - reference).max()

    rows = []
    qml_rate = samples_per_second(qml_run, x.float(), w0, max(1, repeats // 5))
    for batch in batches:
        xb = torch.tensor(rng.uniform(0, np.pi, (batch, 6)))
        w = w0.clone().requires_grad_(True)
        rows.append(
            {
                "batch": batch,
                "simulator": f"qiskit-ml default (timed at batch {qml_batch})",
                "samples/s": qml_rate,
            }
        )
        if penny is not None:
            rows.append(
                {
                    "batch": batch,
                    "simulator": "PennyLane default.qubit (backprop)",
                    "samples/s": samples_per_second(penny, xb, w, repeats),
                }
            )
        rows.append(
            {
                "batch": batch,
                "simulator": "ecgkd TorchVQC",
                "samples/s": samples_per_second(ours.expectation, xb, w, repeats),
            }
        )
    table = pd.DataFrame(rows)
    ecgkd_rate = table[table.simulator == "ecgkd TorchVQC"].set_index("batch")["samples/s"]
    table["ecgkd speed-up"] = table["batch"].map(ecgkd_rate) / table["samples/s"]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {repeats} repeat(s); "
        "circuit: "
        f"{vqc.spec}" + (" [SMOKE: not a measurement]" if args.smoke else "")
    )
    print(
        "largest |difference| from ecgkd's expectations: "
        + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items())
        + ("" if penny is not None else " (PennyLane not installed: pip install -e '.[bench]')")
    )
    print(table.round(1).to_string(index=False))
    big = table[table.batch == max(batches)].set_index("simulator")["ecgkd speed-up"]
    for name, goal in (
        ("PennyLane default.qubit (backprop)", 10),
        (f"qiskit-ml default (timed at batch {qml_batch})", 10_000),
    ):
        if name in big:
            print(
                f"batch {max(batches)}: ecgkd / {name.split(' (')[0]} = {big[name]:,.0f}x (goal: "
                f">= {goal:,}x)"
            )
    return table


if __name__ == "__main__":
    main()
