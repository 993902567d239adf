"""Training speed of the 6-qubit VQC: forward + backward samples/s of three simulators, ratios from
one run.

    python benchmarks/vqc.py           # batches 256 and 4096, 7 interleaved rounds
    python benchmarks/vqc.py --smoke   # tiny batches, two rounds: checks the script still runs (CI)

- **qiskit-ml default**: EstimatorQNN with its defaults (reference StatevectorEstimator,
  parameter-shift gradients) in a TorchConnector: one circuit per sample, two more per weight for
  the gradient. Its cost grows linearly with the batch, so it is timed on ``--qml-batch`` samples
  (default 64) and its rate is used for both batch sizes (said in the output).
- **ecgkd TorchVQC**: :class:`ecgkd.quantum.TorchVQC`, float64; its expectation read in the Pauli
  basis (:class:`ecgkd.quantum.statevector.PauliReadout`: for the angle encoding, a
  (b, 27) x (27, 27) product instead of a 64-amplitude statevector), the ansatz's readout matrix
  and its gradient by :class:`ecgkd.quantum.statevector.HeisenbergReadout` (a backward pass
  written out), the rest by autograd.
- **ecgkd TorchVQC, autograd readout**: the same, with the readout matrix built gate layer by gate
  layer and differentiated by autograd (the road before ``HeisenbergReadout``).
- **ecgkd TorchVQC, statevector path**: the same class's statevector expectation
  (``statevector_expectation``), the road it took before the Pauli readout.
- **PennyLane default.qubit, backprop** (when ``pip install -e '.[bench]'``): the same circuit, gate
  for gate, with parameter broadcasting over the batch, the fastest exact peer a user would pick.

All compute the same expectations; the script prints their largest difference from
``qiskit.quantum_info.Statevector`` on one batch. The contenders are timed in interleaved rounds
(:mod:`ecgkd.timing`): each speed-up is the median of the per-round ratios, with the lowest and
highest. Goals from the issues: at batch 4096 on 2 cores, >= 1,000,000 samples/s forward + backward,
about 100x PennyLane, >= 10,000x qiskit-ml's default, expectations equal to Qiskit's to 1e-12.

Set-up (PennyLane is part of the measurement, an optional extra of the package):

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/vqc.py
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from ecgkd.quantum import TorchVQC, VQCSpec, build_vqc
from ecgkd.quantum.circuit import VQCCircuit
from ecgkd.timing import format_ratio, interleaved_rates, rate_summary, ratio


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


def statevector_reference(vqc: VQCCircuit, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Qiskit's exact expectations, one bound circuit per sample."""
    from qiskit.quantum_info import Statevector

    from ecgkd.quantum.circuit import bind

    return np.array(
        [Statevector(bind(vqc, xi, w)).expectation_value(vqc.observable).real for xi in x]
    )


def training_step(run, x: torch.Tensor, w: torch.Tensor) -> Callable[[], None]:
    """One forward + backward of the summed expectations (what a training step costs the
    simulator)."""
    return lambda: run(x, w).sum().backward()


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="tiny batches, two rounds: a check, not a measurement"
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--qml-batch", type=int, default=64)
    parser.add_argument(
        "--min-seconds", type=float, default=0.5, help="each measurement repeats for this long"
    )
    args = parser.parse_args(argv)
    batches, rounds, qml_batch, min_seconds = (
        ((8, 16), 2, 2, 0.0)
        if args.smoke
        else ((256, 4096), args.rounds, args.qml_batch, args.min_seconds)
    )
    vqc = build_vqc(VQCSpec())
    rng = np.random.default_rng(0)
    w0 = torch.tensor(rng.uniform(-np.pi, np.pi, vqc.num_weights))
    ours = TorchVQC(vqc)
    recorded = TorchVQC(vqc)
    recorded.chain = None  # the readout matrix through autograd
    penny = pennylane_circuit(vqc)
    qml_run, _ = qml_default(vqc)

    # Equal results first: one batch through every path, against Qiskit's exact Statevector.
    x = torch.tensor(rng.uniform(0, np.pi, (qml_batch, 6)))
    reference = statevector_reference(vqc, x.numpy(), w0.numpy())
    runs = {
        "ecgkd": ours.expectation,
        "ecgkd autograd readout": recorded.expectation,
        "ecgkd statevector path": ours.statevector_expectation,
    }
    runs["qiskit-ml default"] = qml_run
    if penny is not None:
        runs["PennyLane"] = penny
    diffs = {k: np.abs(run(x, w0).detach().numpy() - reference).max() for k, run in runs.items()}

    qml_name = f"qiskit-ml default (timed at batch {qml_batch})"
    contenders, items, simulators = {qml_name: training_step(qml_run, x.float(), w0)}, {}, {}
    items[qml_name] = qml_batch
    for batch in batches:
        xb = torch.tensor(rng.uniform(0, np.pi, (batch, 6)))
        w = w0.clone().requires_grad_(True)
        paths = {
            "ecgkd TorchVQC": ours.expectation,
            "ecgkd TorchVQC, autograd readout": recorded.expectation,
            "ecgkd TorchVQC, statevector path": ours.statevector_expectation,
        }
        if penny is not None:
            paths["PennyLane default.qubit (backprop)"] = penny
        for name, run in paths.items():
            contenders[f"{name} @{batch}"] = training_step(run, xb, w)
            items[f"{name} @{batch}"] = batch
            simulators[f"{name} @{batch}"] = (batch, name)
    rates = interleaved_rates(contenders, items, rounds, min_seconds=min_seconds)
    summary = rate_summary(rates).set_index("contender")
    rows = []
    for batch in batches:
        ecgkd = f"ecgkd TorchVQC @{batch}"
        for contender in [qml_name, *(c for c, (b, _) in simulators.items() if b == batch)]:
            speed_up = ratio(rates, ecgkd, contender)
            rows.append(
                {
                    "batch": batch,
                    "simulator": simulators.get(contender, (batch, qml_name))[1],
                    "samples/s": summary.loc[contender, "median"],
                    "ecgkd speed-up": speed_up["median"],
                    "speed-up low": speed_up["low"],
                    "speed-up high": speed_up["high"],
                }
            )
    table = pd.DataFrame(rows)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {rounds} interleaved "
        f"rounds (medians; speed-ups per round, low-high); circuit: {vqc.spec}"
        + (" [SMOKE: not a measurement]" if args.smoke else "")
    )
    print(
        "largest |difference| from Qiskit's Statevector: "
        + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items())
        + ("" if penny is not None else " (PennyLane not installed: pip install -e '.[bench]')")
    )
    print(table.round(1).to_string(index=False))
    big = max(batches)
    rate = summary.loc[f"ecgkd TorchVQC @{big}", "median"]
    print(f"batch {big}: ecgkd TorchVQC {rate:,.0f} samples/s (goal: >= 1,000,000)")
    for name, goal in (
        ("PennyLane default.qubit (backprop)", 100),
        ("ecgkd TorchVQC, autograd readout", 1),
        ("ecgkd TorchVQC, statevector path", 1),
        (qml_name, 10_000),
    ):
        other = qml_name if name == qml_name else f"{name} @{big}"
        if other in contenders:
            speed_up = format_ratio(ratio(rates, f"ecgkd TorchVQC @{big}", other))
            print(f"batch {big}: ecgkd / {name.split(' (')[0]} = {speed_up} (goal: >= {goal:,}x)")
    return table


if __name__ == "__main__":
    main()
