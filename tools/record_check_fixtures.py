#!/usr/bin/python3
"""Records the fixtures of the tests of checkTorchFixture and verify --fixtures with python/record_fixture.py.

    PYTHONPATH=python /usr/bin/python3 tools/record_check_fixtures.py

Writes __tests__/check/fixtures/non-finite.json: calls whose inputs, values and gradients hold NaN and
infinities, to check that they survive the round trip from PyTorch to tfjs.
"""

import math
import pathlib

import torch
import torch.nn.functional as F
from record_fixture import record_many

OUT = pathlib.Path(__file__).resolve().parent.parent / "__tests__" / "check" / "fixtures" / "non-finite.json"
inf, nan = math.inf, math.nan


def grad(values):
    return torch.tensor(values, requires_grad=True)


record_many(OUT, [
    {"name": "nllLoss -Infinity inputs none", "fn": F.nll_loss,
     "args": (grad([[-inf, -1.0, -0.5], [-2.0, -inf, -3.0]]), torch.tensor([0, 2])), "kwargs": {"reduction": "none"}},
    {"name": "crossEntropy NaN logit none", "fn": F.cross_entropy,
     "args": (grad([[nan, 1.0, -0.5], [0.25, 2.0, -1.0]]), torch.tensor([1, 0])), "kwargs": {"reduction": "none"}},
    {"name": "binaryCrossEntropyWithLogits ±Infinity logits none", "fn": F.binary_cross_entropy_with_logits,
     "args": (grad([inf, -inf, 0.5, inf]), torch.tensor([0.0, 0.0, 1.0, 1.0])), "kwargs": {"reduction": "none"}},
    {"name": "crossEntropy every target ignored mean", "fn": F.cross_entropy,
     "args": (grad([[0.5, -1.0], [2.0, 0.0]]), torch.tensor([-100, -100]))},
])
print(f"wrote {OUT}")
