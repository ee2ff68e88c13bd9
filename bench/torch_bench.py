"""PyTorch reference timings for `tfjs-loss-adapter bench` (not shipped; run by src/cli/bench.ts).

Reads a JSON list of cases on stdin: {"name", "kind": "ce"|"bce"|"two-class", "shape": [...], "repeats", "warmup"}
and prints a JSON object {"torch": version, "threads": 1, "results": {name: median_ms}} on stdout.
Forward + backward, float32, one thread, inputs made once outside the timed region, as in the
JavaScript side: cross-entropy of [N, C] logits against int64 class indices,
binary_cross_entropy_with_logits of [N] logits against {0, 1} float targets, and ("two-class") the
cross-entropy of [N, 2] logits stacked as [0, z] from [N] logits z; reduction 'mean', the gradient
taken with respect to the logits.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def make_step(case):
    generator = torch.Generator().manual_seed(1)
    shape = case["shape"]
    logits = (torch.randn(*shape, generator=generator) * 3).requires_grad_(True)
    if case["kind"] == "ce":
        target = torch.randint(0, shape[1], (shape[0],), generator=generator)
        loss_fn = F.cross_entropy
    elif case["kind"] == "two-class":
        target = torch.randint(0, 2, (shape[0],), generator=generator)

        def loss_fn(z, y):
            return F.cross_entropy(torch.stack([torch.zeros_like(z), z], 1), y)
    else:
        target = torch.randint(0, 2, tuple(shape), generator=generator).float()
        loss_fn = F.binary_cross_entropy_with_logits

    def step():
        logits.grad = None
        loss = loss_fn(logits, target)
        loss.backward()
        return loss.item()

    return step


def median_ms(step, warmup, repeats):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    torch.set_num_threads(1)
    cases = json.load(sys.stdin)
    results = {case["name"]: median_ms(make_step(case), case["warmup"], case["repeats"]) for case in cases}
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
