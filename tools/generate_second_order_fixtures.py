#!/usr/bin/python3
"""Writes the PyTorch second-order fixtures of the four losses to __tests__/fixtures/second-order/secondOrder.json.

Run by hand with Debian's PyTorch (never in CI):

    /usr/bin/python3 tools/generate_second_order_fixtures.py

As in tools/generate_fixtures.py (whose helpers this reuses), every input is drawn in float32 and
computed on in float64, so each stored number is PyTorch's answer, to float64 precision, for exactly
the float32 numbers stored; the grid is seeded. For each case, with the loss `l` (a scalar for 'mean'
and 'sum', per sample or element for 'none'), the stored random float32 `upstream` u (l's shape) and
`direction` v (the input's shape), the objective is

    L(x) = Σ u·l + ½·Σ l²        (so the upstream gradient of the loss, u + l, depends on x)

and, with g = ∂L/∂x computed with `create_graph=True`:

    gradient      g
    hvp           ∂/∂x ⟨g, v⟩, and for a float target ∂/∂target ⟨g, v⟩ (else null)
    penalty       ∂/∂x ‖g‖²          (the gradient of an input-gradient penalty)

Weights and class-index targets are constants. Channels-last cases (`classAxis: -1`) are computed on
the channels-first tensors and stored moved, directions and results alike.
"""

import json

import torch
import torch.nn.functional as F

import generate_fixtures as first_order
from generate_fixtures import (OUT_DIR, REDUCTIONS, channels_last, class_weight, f32, hard_labels, index_targets,
                               normal, probabilities, shape_name, uniform)

SEED = 20240707
first_order.generator.manual_seed(SEED)


# The tensors of this file: {"shape", "values"}, NaN and infinities as strings; float32 inputs in their
# shortest decimal form, float64 results as they are.

# The recorder's number encoding: NaN and infinities as strings, float32 in its shortest decimal form.
encode_number = first_order.record_fixture._encode_number


def encode_tensor(t):
    """A tensor as {"shape", "values"}: float32 inputs in their shortest form, float64 results in full."""
    single = t.dtype == torch.float32
    values = t.reshape(-1).tolist()
    if t.dtype in (torch.int64, torch.int32):
        return {"shape": list(t.shape), "values": [int(v) for v in values]}
    return {"shape": list(t.shape), "values": [encode_number(v, single) for v in values]}


def encode_target(t, float_dtype):
    encoded = encode_tensor(t)
    encoded["dtype"] = "float32" if float_dtype else "int32"
    return encoded




TORCH_NAMES = {"weight": "weight", "posWeight": "pos_weight", "ignoreIndex": "ignore_index",
               "labelSmoothing": "label_smoothing"}


def second_order(loss_fn, x32, target, options, reduction, target_is_float):
    """The case's upstream and direction (drawn here), and g, the two HVPs and the penalty's gradient in float64."""
    x = x32.double().requires_grad_(True)
    y = target.double().requires_grad_(True) if target_is_float else target
    kwargs = {TORCH_NAMES[k]: (v.double() if isinstance(v, torch.Tensor) else v) for k, v in options.items()}
    loss = loss_fn(x, y, reduction=reduction, **kwargs)
    upstream = normal(loss.shape)
    direction = normal(x32.shape)
    objective = (upstream.double() * loss).sum() + 0.5 * (loss * loss).sum()
    (g,) = torch.autograd.grad(objective, x, create_graph=True)
    wrt = [x, y] if target_is_float else [x]
    hvp = torch.autograd.grad((g * direction.double()).sum(), wrt, retain_graph=True, allow_unused=True)
    hvp = [torch.zeros_like(w) if h is None else h.detach() for h, w in zip(hvp, wrt)]
    (penalty,) = torch.autograd.grad((g * g).sum(), x, allow_unused=True)
    penalty = torch.zeros_like(x) if penalty is None else penalty.detach()
    return upstream, direction, g.detach(), hvp, penalty


def make_case(name, loss_fn, x32, target, options, reduction, target_is_float, class_last=False):
    """One case; `options` are the library's (weight, posWeight, ignoreIndex, labelSmoothing)."""
    upstream, direction, g, hvp, penalty = second_order(loss_fn, x32, target, options, reduction, target_is_float)
    move = channels_last if class_last else (lambda t: t)
    if class_last:
        options = {**options, "classAxis": -1}
    options = {**options, "reduction": reduction}
    return {
        "name": name,
        "input": encode_tensor(move(x32)),
        "target": encode_target(move(target) if target_is_float else target, target_is_float),
        "options": {k: (encode_tensor(v) if isinstance(v, torch.Tensor) else v) for k, v in options.items()},
        "upstream": encode_tensor(upstream),
        "direction": encode_tensor(move(direction)),
        "gradient": encode_tensor(move(g)),
        "hvp": {"input": encode_tensor(move(hvp[0])), "target": encode_tensor(move(hvp[1])) if target_is_float else None},
        "penalty": encode_tensor(move(penalty)),
    }


def each_reduction(name, *args, **kwargs):
    return [make_case(f"{name} {reduction}", args[0], args[1], args[2], args[3], reduction, *args[4:], **kwargs)
            for reduction in REDUCTIONS]


def kept_targets(shape, ignore):
    """`index_targets`, drawn again while every target is ignored (a NaN loss for 'mean' makes L NaN)."""
    targets = index_targets(shape, ignore)
    while ignore is not None and bool((targets == ignore).all()):
        targets = index_targets(shape, ignore)
    return targets


CLASS_SHAPES = [[5], [4, 3], [3, 2], [2, 3, 4], [2, 3, 2, 3]]


def classes_of(shape):
    return shape[0] if len(shape) == 1 else shape[1]


def cross_entropy_cases():
    logits = lambda shape: normal(shape, 2.0)
    option_sets = [
        ("defaults", lambda c: ({}, None)),
        ("weight", lambda c: ({"weight": class_weight(c)}, None)),
        ("ignoreIndex hits", lambda c: ({}, -100)),
        ("labelSmoothing", lambda c: ({"labelSmoothing": 0.1}, None)),
        ("weight+ignoreIndex 1+labelSmoothing", lambda c: ({"weight": class_weight(c), "ignoreIndex": 1,
                                                            "labelSmoothing": 0.2}, 1)),
    ]
    cases = []
    for shape in CLASS_SHAPES:
        for label, build in option_sets:
            options, ignore = build(classes_of(shape))
            if ignore is not None and len(shape) == 1:
                continue  # the one target ignored: the loss is NaN for 'mean', and so is L
            cases += each_reduction(f"crossEntropy {shape_name(shape)} {label}", F.cross_entropy, logits(shape),
                                    kept_targets(shape, ignore), options, False)
    for shape in CLASS_SHAPES[3:]:
        options = {"weight": class_weight(3), "ignoreIndex": -100, "labelSmoothing": 0.15}
        cases += each_reduction(f"crossEntropy {shape_name(shape)} channels-last weight+ignoreIndex+labelSmoothing",
                                F.cross_entropy, logits(shape), kept_targets(shape, -100), options, False,
                                class_last=True)
    for shape in ([4, 3], [2, 3, 4]):
        for label, options in [("", {}), (" weight+labelSmoothing", {"weight": class_weight(3), "labelSmoothing": 0.1})]:
            cases += each_reduction(f"crossEntropy {shape_name(shape)} probability targets{label}", F.cross_entropy,
                                    logits(shape), probabilities(shape, 1), options, True)
    cases += each_reduction("crossEntropy [2,3,4] channels-last probability targets weight+labelSmoothing",
                            F.cross_entropy, logits([2, 3, 4]), probabilities([2, 3, 4], 1),
                            {"weight": class_weight(3), "labelSmoothing": 0.25}, True, class_last=True)
    cases.append(make_case("crossEntropy [3,4] every target ignored sum", F.cross_entropy, logits([3, 4]),
                           torch.full([3], -100, dtype=torch.int64), {}, "sum", False))
    return cases


def nll_cases():
    log_probabilities = lambda shape: torch.log_softmax(normal(shape, 2.0).double(), 1).float()
    cases = []
    for shape in ([4, 3], [2, 3, 4]):
        for label, options, ignore in [("defaults", {}, None), ("weight", {"weight": class_weight(3)}, None),
                                       ("weight+ignoreIndex", {"weight": class_weight(3), "ignoreIndex": -100}, -100)]:
            cases += each_reduction(f"nllLoss {shape_name(shape)} {label}", F.nll_loss, log_probabilities(shape),
                                    kept_targets(shape, ignore), options, False)
    cases += each_reduction("nllLoss [2,3,4] channels-last weight+ignoreIndex 2", F.nll_loss,
                            log_probabilities([2, 3, 4]), kept_targets([2, 3, 4], 2),
                            {"weight": class_weight(3), "ignoreIndex": 2}, False, class_last=True)
    return cases


ELEMENTWISE = [([6], [6]), ([3, 4], [1, 4])]


def bce_cases():
    probability = lambda shape: uniform(shape, 0.05, 0.95)
    cases = []
    for shape, weight_shape in ELEMENTWISE:
        for label, soft, options in [("hard targets", False, {}), ("soft targets", True, {}),
                                     ("soft targets weight", True, {"weight": uniform(weight_shape, 0.2, 2.0)})]:
            target = uniform(shape) if soft else hard_labels(shape)
            cases += each_reduction(f"binaryCrossEntropy {shape_name(shape)} {label}", F.binary_cross_entropy,
                                    probability(shape), target, options, True)
    return cases


def bce_with_logits_cases():
    cases = []
    for shape, weight_shape in ELEMENTWISE:
        for label, soft, options in [
            ("hard targets", False, {}),
            ("soft targets weight", True, {"weight": uniform(weight_shape, 0.2, 2.0)}),
            ("soft targets posWeight", True, {"posWeight": uniform(weight_shape, 0.5, 3.0)}),
            ("hard targets weight+posWeight", False, {"weight": uniform(weight_shape, 0.2, 2.0),
                                                      "posWeight": uniform(weight_shape, 0.5, 3.0)}),
        ]:
            target = uniform(shape) if soft else hard_labels(shape)
            cases += each_reduction(f"binaryCrossEntropyWithLogits {shape_name(shape)} {label}",
                                    F.binary_cross_entropy_with_logits, normal(shape, 3.0), target, options, True)
    # Saturated logits: the second derivative σ(x)σ(-x) is tiny and must keep its relative accuracy.
    cases += each_reduction("binaryCrossEntropyWithLogits [6] saturated logits", F.binary_cross_entropy_with_logits,
                            f32([9.0, -9.5, 12.0, -14.0, 0.0, 7.5]), hard_labels([6]), {}, True)
    return cases


FIXTURES = {
    "binaryCrossEntropy": bce_cases,
    "binaryCrossEntropyWithLogits": bce_with_logits_cases,
    "crossEntropy": cross_entropy_cases,
    "nllLoss": nll_cases,
}


def main():
    cases = {loss: build() for loss, build in FIXTURES.items()}
    names = [case["name"] for group in cases.values() for case in group]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SystemExit(f"duplicate case names {duplicates}")
    document = {"generator": "tools/generate_second_order_fixtures.py", "torch": torch.__version__, "losses": cases}
    path = OUT_DIR / "second-order" / "secondOrder.json"
    text = json.dumps(document, allow_nan=False, separators=(",", ":"))
    path.write_text(text + "\n")
    counts = ", ".join(f"{loss} {len(group)}" for loss, group in cases.items())
    print(f"{path.relative_to(OUT_DIR.parent.parent)}: {counts} cases, {len(text) // 1024} KB")


if __name__ == "__main__":
    main()
