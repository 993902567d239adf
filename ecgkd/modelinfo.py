"""What a trained model is, in numbers every stage reports the same way: parameters, bytes,
fingerprint.

A neutral module: the teacher, the students, the quantum student and the evaluation all import it,
and it imports none of them.
"""

from __future__ import annotations

import hashlib
import io

from torch import nn


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Parameters of ``model``: all of them, or only those that receive gradients."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))


def size_on_disk(model: nn.Module) -> int:
    """Bytes of the saved state dict (float32 weights plus batch-norm statistics and framing)."""
    buffer = io.BytesIO()
    import torch

    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def describe(model: nn.Module) -> dict[str, int]:
    """The size columns of every result table: all parameters the model runs at inference (a latent
    student's frozen encoder included), those that training changes, and the bytes on disk."""
    return {
        "parameters": count_parameters(model),
        "trainable parameters": count_parameters(model, trainable_only=True),
        "bytes on disk": size_on_disk(model),
    }


def model_fingerprint(model: nn.Module) -> str:
    """sha256 of every tensor of the state dict: same weights, same fingerprint (caches key on
    it)."""
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
