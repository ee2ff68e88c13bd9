#!/usr/bin/python3
"""Records PyTorch's curve for the "why" figure into tools/why-figure/torch_values.json.

Run by hand with Debian's PyTorch (never in CI; the JSON is committed so that the figure can be drawn
again without torch):

    /usr/bin/python3 tools/why-figure/torch_values.py && npx prettier --write tools/why-figure/torch_values.json

For a positive sample (target 1) and logits z from -30 to 10 in steps of 0.25, float32 as a tfjs model
computes: the value of F.binary_cross_entropy_with_logits(z, 1, reduction='none') and its gradient with
respect to z (of the sum, so one derivative per logit). generate.ts draws it next to tfjs-layers'
binaryCrossentropy on sigmoid(z) and this library's binaryCrossEntropyWithLogits on z.
"""

import json
import pathlib

import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent / "torch_values.json"
START, STOP, STEP = -30.0, 10.0, 0.25


def main() -> None:
    count = int(round((STOP - START) / STEP)) + 1
    z = torch.tensor([START + i * STEP for i in range(count)], dtype=torch.float32, requires_grad=True)
    target = torch.ones_like(z)
    loss = F.binary_cross_entropy_with_logits(z, target, reduction="none")
    loss.sum().backward()
    record = {
        "description": "F.binary_cross_entropy_with_logits(z, 1, reduction='none') in float32 and its gradient with respect to z",
        "torch": torch.__version__,
        "z": [float(v) for v in z.detach()],
        "loss": [float(v) for v in loss.detach()],
        "gradient": [float(v) for v in z.grad],
    }
    OUT.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {OUT} ({count} points, torch {torch.__version__})")


if __name__ == "__main__":
    main()
