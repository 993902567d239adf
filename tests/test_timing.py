"""Benchmark timing helpers: rounds interleave the contenders, ratios pair them round by round."""

import pandas as pd
import pytest
import torch

from ecgkd.timing import format_ratio, interleaved_rates, model_steps, rate_summary, ratio


def test_rounds_call_every_contender_once_in_a_rotated_order():
    calls = []
    contenders = {name: (lambda n=name: calls.append(n)) for name in "abc"}
    rates = interleaved_rates(contenders, {"a": 1, "b": 2, "c": 3}, rounds=3, warmup=1)
    assert calls[:3] == ["a", "b", "c"]  # the warm-up
    assert calls[3:] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert len(rates) == 9 and (rates["rate"] > 0).all()
    assert rates.groupby("contender")["round"].nunique().eq(3).all()
    slow = interleaved_rates({"a": lambda: None}, {"a": 5}, rounds=2, min_seconds=0.01)
    assert (slow["seconds"] >= 0.01).all() and (slow["calls"] > 1).all()
    assert (slow["rate"] == 5 * slow["calls"] / slow["seconds"]).all()
    with pytest.raises(ValueError, match="item count"):
        interleaved_rates(contenders, {"a": 1}, rounds=1)


def test_ratio_is_taken_within_each_round_then_its_median():
    rates = pd.DataFrame(
        {
            "round": [0, 0, 1, 1, 2, 2],
            "contender": ["fast", "slow"] * 3,
            "rate": [100.0, 10.0, 50.0, 10.0, 300.0, 20.0],  # round 1 ran in a slow spell
        }
    )
    assert ratio(rates, "fast", "slow") == {"median": 10.0, "low": 5.0, "high": 15.0, "rounds": 3}
    summary = rate_summary(rates).set_index("contender")
    assert summary.loc["fast"].tolist() == [100.0, 50.0, 300.0]
    assert format_ratio(ratio(rates, "fast", "slow")) == "10.0x (spread 5.0-15.0x over 3 rounds)"
    with pytest.raises(KeyError, match="was not timed"):
        ratio(rates, "fast", "missing")


def test_model_steps_infer_without_changing_and_train_with_changing_the_weights():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 1))
    infer, train = model_steps(model, torch.randn(4, 1, 8), lr=0.1)
    before = model[1].weight.detach().clone()
    infer()
    assert torch.equal(model[1].weight, before)
    train()
    assert not torch.equal(model[1].weight, before)
