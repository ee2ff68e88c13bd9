"""PyTorch reference timings for `tfjs-loss-adapter bench` (not shipped; run by src/cli/bench.ts).

Reads a JSON list of cases on stdin: {"name", "kind": "ce"|"bce"|"two-class"|"sigmoid-focal"|"softmax-focal"|"kl-div",
"shape": [...], "repeats", "warmup"}
and prints a JSON object {"torch": version, "threads": 1, "results": {name: median_ms}} on stdout.
Forward + backward, float32, one thread, inputs made once outside the timed region, as in the
JavaScript side: cross-entropy of [N, C] logits against int64 class indices,
binary_cross_entropy_with_logits of [N] logits against {0, 1} float targets, and ("two-class") the
cross-entropy of [N, 2] logits stacked as [0, z] from [N] logits z, torchvision's sigmoid_focal_loss
(alpha 0.25, gamma 2), the multiclass focal loss of [N, C] logits (gamma 2, as a formula: PyTorch has
none), and kl_div of [N, C] log-probabilities against probabilities ('batchmean'); reduction 'mean'
otherwise, the gradient taken with respect to the logits (the log-probabilities for KL).
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
    elif case["kind"] == "softmax-focal":
        target = torch.randint(0, shape[1], (shape[0],), generator=generator)

        def loss_fn(z, y):
            lp = F.log_softmax(z, 1).gather(1, y[:, None])
            return (-((1 - lp.exp()) ** 2) * lp).mean()
    elif case["kind"] == "kl-div":
        logits = F.log_softmax(logits.detach(), 1).requires_grad_(True)
        target = F.softmax(torch.randn(*shape, generator=generator), 1)

        def loss_fn(x, t):
            return F.kl_div(x, t, reduction="batchmean")
    else:
        target = torch.randint(0, 2, tuple(shape), generator=generator).float()
        loss_fn = F.binary_cross_entropy_with_logits
        if case["kind"] == "sigmoid-focal":
            from torchvision.ops import sigmoid_focal_loss

            def loss_fn(z, y):
                return sigmoid_focal_loss(z, y, reduction="mean")

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
