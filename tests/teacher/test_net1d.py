"""Net1D against the published facts (SHARED SPEC) and the official checkpoint format."""

import sys
import types
from pathlib import Path

import pytest
import torch

from ecgkd.modelinfo import count_parameters
from ecgkd.teacher import checkpoint as ckpt
from ecgkd.teacher.net1d import (
    Net1D,
    ecgfounder_config,
    same_padding,
    scaled_config,
    used_parameters,
)


@pytest.fixture(scope="module")
def official_file(tmp_path_factory) -> tuple[Path, Net1D]:
    """A checkpoint built exactly like the released file: random weights, Adam and scheduler
    state."""
    torch.manual_seed(0)
    model = Net1D(ecgfounder_config(12))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max")
    model(torch.randn(2, 12, 256)).sum().backward()
    opt.step()
    sched.step(0.8)
    path = tmp_path_factory.mktemp("ckpt") / "12_lead_ECGFounder.pth"
    torch.save(
        {
            "epoch": 7,
            "step": 1234,
            "state_dict": model.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "val_auroc": 0.91,
        },
        path,
    )
    return path, model


def test_parameter_counts_match_the_release():
    twelve, one = Net1D(ecgfounder_config(12)), Net1D(ecgfounder_config(1))
    assert count_parameters(twelve) == 30_819_014 and used_parameters(twelve) == 30_752_646
    assert count_parameters(one) == 30_807_750
    assert len(twelve.state_dict()) == 509


def test_keys_and_shapes_match_the_release():
    sd = Net1D(ecgfounder_config(12)).state_dict()
    assert tuple(sd["first_conv.conv.weight"].shape) == (64, 12, 16)
    assert tuple(sd["stage_list.0.block_list.0.conv2.conv.weight"].shape) == (64, 16, 16)
    assert tuple(sd["stage_list.1.block_list.0.conv1.conv.weight"].shape) == (160, 64, 1)
    assert tuple(sd["stage_list.6.block_list.3.se_fc1.weight"].shape) == (512, 1024)
    assert tuple(sd["dense.weight"].shape) == (150, 1024) and tuple(sd["dense.bias"].shape) == (
        150,
    )
    assert {k.split(".")[-1] for k in sd if k.startswith("first_bn.")} == {
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    }
    block = {k.split("block_list.0.")[1] for k in sd if k.startswith("stage_list.3.block_list.0.")}
    assert block == {
        f"bn{i}.{t}"
        for i in (1, 2, 3)
        for t in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    } | {f"conv{i}.conv.{t}" for i in (1, 2, 3) for t in ("weight", "bias")} | {
        f"se_fc{i}.{t}" for i in (1, 2) for t in ("weight", "bias")
    }
    assert tuple(Net1D(ecgfounder_config(1)).state_dict()["first_conv.conv.weight"].shape) == (
        64,
        1,
        16,
    )


@pytest.mark.parametrize("length, steps", [(5000, 20), (256, 1), (356, 2), (1000, 4)])
def test_downsampling_is_256x_with_same_padding(length, steps):
    model = Net1D(scaled_config(ecgfounder_config(1, 1), width=0.25, depth=0.5))
    seen = {}
    model.stage_list[-1].register_forward_hook(lambda m, i, o: seen.update(shape=o.shape))
    logits, feats = model(torch.randn(2, 1, length), return_features=True)
    assert (
        seen["shape"][-1] == steps
        and logits.shape == (2, 1)
        and feats.shape == (2, model.config.feature_dim)
    )


def test_same_padding_and_input_checks():
    assert same_padding(5000, 16, 2) == (7, 7) and same_padding(7, 2, 1) == (0, 1)
    with pytest.raises(ValueError, match=r"expects \(batch, 12 leads, time\)"):
        Net1D(ecgfounder_config(12))(torch.randn(1, 1, 256))
    with pytest.raises(ValueError, match="leads=2"):
        ecgfounder_config(2)
    with pytest.raises(ValueError, match="width"):
        scaled_config(ecgfounder_config(), width=2)


def test_official_file_round_trip(official_file):
    path, original = official_file
    model, report = ckpt.load_ecgfounder(path)
    assert report.ok and report.epoch == 7 and report.step == 1234 and report.val_auroc == 0.91
    x = torch.randn(2, 12, 512)
    with torch.no_grad():
        assert torch.equal(model(x), original(x))


def test_head_replacement_keeps_the_backbone(official_file):
    path, original = official_file
    model, report = ckpt.load_ecgfounder(path, n_outputs=1)
    assert report.head_replaced and model.dense.out_features == 1
    x = torch.randn(2, 12, 300)
    with torch.no_grad():
        assert torch.equal(model.features(x), original.features(x))


def test_module_prefix_is_stripped(official_file, tmp_path):
    path, original = official_file
    state = {f"module.{k}": v for k, v in original.state_dict().items()}
    torch.save(state, tmp_path / "dp.pth")
    _, report = ckpt.load_ecgfounder(tmp_path / "dp.pth")
    assert report.stripped_prefix and report.epoch is None


def test_wrong_shape_and_wrong_keys_are_reported_by_name(official_file, tmp_path):
    path, original = official_file
    state = dict(original.state_dict())
    state["stage_list.2.block_list.1.se_fc1.weight"] = torch.zeros(3, 3)
    state["stage_list.0.block_list.0.conv1.kernel"] = state.pop(
        "stage_list.0.block_list.0.conv1.conv.weight"
    )
    torch.save({"epoch": 1, "state_dict": state}, tmp_path / "bad.pth")
    with pytest.raises(ckpt.CheckpointError) as err:
        ckpt.load_ecgfounder(tmp_path / "bad.pth")
    text = str(err.value)
    assert "1 key(s) missing from the file: stage_list.0.block_list.0.conv1.conv.weight" in text
    assert "unexpected key(s) in the file: stage_list.0.block_list.0.conv1.kernel" in text
    assert (
        "shape mismatch for stage_list.2.block_list.1.se_fc1.weight: file (3, 3), model (80, 160)"
        in text
    )
    with pytest.raises(ckpt.CheckpointError, match="1-lead"):
        ckpt.load_ecgfounder(path, leads=1)  # a 12-lead file is not the 1-lead model


def test_missing_file_and_garbage_file(tmp_path):
    with pytest.raises(
        ckpt.CheckpointError, match="not found.*12_lead_ECGFounder.pth from https://huggingface.co"
    ):
        ckpt.load_ecgfounder(tmp_path / "nope.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ckpt.CheckpointError, match="not a readable torch checkpoint"):
        ckpt.load_ecgfounder(tmp_path / "junk.pth")


class Custom:  # a pickled object that weights_only loading refuses
    pass


def test_untrusted_pickle_needs_opt_in(tmp_path):
    torch.save({"state_dict": {}, "extra": Custom()}, tmp_path / "pickled.pth")
    with pytest.raises(ckpt.CheckpointError, match="trust=True"):
        ckpt.read_checkpoint(tmp_path / "pickled.pth")
    assert isinstance(ckpt.read_checkpoint(tmp_path / "pickled.pth", trust=True)["extra"], Custom)


def test_hub_id_offline_fails_fast_with_instructions(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # not installed
    with pytest.raises(
        ckpt.CheckpointError, match=r"huggingface_hub is not installed.*1_lead_ECGFounder.pth"
    ):
        ckpt.load_ecgfounder(ckpt.HF_REPO, leads=1)
    fake = types.ModuleType("huggingface_hub")

    def offline(repo, filename, **kw):
        raise ConnectionError("Failed to resolve 'huggingface.co'")

    fake.hf_hub_download = offline  # installed below with monkeypatch: no network is touched
    monkeypatch.setitem(sys.modules, "huggingface_hub", fake)
    with pytest.raises(
        ckpt.CheckpointError, match=r"could not fetch 12_lead_ECGFounder.pth.*ConnectionError"
    ):
        ckpt.load_ecgfounder(ckpt.HF_REPO)


def test_save_checkpoint_writes_the_official_format(tmp_path):
    model = Net1D(scaled_config(ecgfounder_config(1, 1), width=0.25, depth=0.5))
    opt = torch.optim.AdamW(model.parameters())
    path = ckpt.save_checkpoint(
        tmp_path / "c.pth",
        model,
        epoch=2,
        step=10,
        optimizer=opt,
        val_auroc=0.5,
        note="stand-in teacher, not ECGFounder",
    )
    obj = ckpt.read_checkpoint(path)
    assert {"epoch", "step", "state_dict", "optimizer", "scheduler", "val_auroc", "note"} <= set(
        obj
    )
    assert list(tmp_path.iterdir()) == [path]
