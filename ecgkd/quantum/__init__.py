"""The quantum student: circuit (Qiskit), fast exact simulation (torch), hardware realism (Aer,
noise)."""

from .circuit import VQCCircuit, VQCSpec, bind, build_vqc
from .statevector import TorchVQC

__all__ = ["VQCCircuit", "VQCSpec", "TorchVQC", "bind", "build_vqc"]
