#!/usr/bin/python3
"""Writes the PyTorch golden fixtures of the losses to __tests__/fixtures/<loss>.json.

Run by hand with Debian's PyTorch (never in CI):

    /usr/bin/python3 tools/generate_fixtures.py

Every input is drawn in float32 and then computed on in float64 (`.double()`), so each stored value
and gradient is PyTorch's answer, to float64 precision, for exactly the float32 numbers stored. The
grid is seeded: running the script again writes the same files.

Each case stores the input, the target, the options under the library's names (tensors as
`{"shape", "values"}`), the loss value, and the gradient with respect to every float argument
PyTorch differentiates: the input; the target too when it is float (BCE, BCE-with-logits, and
class-probability targets of cross-entropy), else `null`. For reduction 'none' the gradient is of
`sum(loss * upstream)` with the stored random `upstream`; for 'mean' and 'sum' it is of the loss.
Channels-last cases (`classAxis: -1`) are computed on the channels-first tensors and stored moved.
NaN and infinities are written as the strings "NaN", "Infinity" and "-Infinity".

The focal losses: `sigmoidFocalLoss` is torchvision's `sigmoid_focal_loss`, value and autograd
gradients; where that gradient is not finite in float64 (0·∞ in `(1 - p_t)^γ` at saturated logits
with 0 < γ < 1), the closed form of `sigmoid_focal_gradients` stands in, after the script has checked
that it agrees with torchvision on every element where torchvision is finite. PyTorch has no
multiclass focal loss: `softmax_focal_loss` below is its formula in float64 torch ops with autograd,
`(1 - p)^γ` as `exp(γ·log(1 - p))` from a log-sum-exp of the other classes; the script checks it
against the direct `(1 - p) ** γ` wherever that is finite, and at γ = 0 against `F.cross_entropy`.
"""

import functools
import json
import math
import pathlib

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

SEED = 20240613
OUT_DIR = pathlib.Path(__file__).resolve().parent.parent / "__tests__" / "fixtures"
REDUCTIONS = ("mean", "sum", "none")

generator = torch.Generator().manual_seed(SEED)


# ----------------------------------------------------------------------------- random float32 inputs

def normal(shape, scale=1.0):
    return (torch.randn(shape, generator=generator, dtype=torch.float64) * scale).float()


def uniform(shape, low=0.0, high=1.0):
    return (torch.rand(shape, generator=generator, dtype=torch.float64) * (high - low) + low).float()


def integers(shape, high):
    return torch.randint(0, high, shape, generator=generator, dtype=torch.int64)


def f32(values):
    return torch.tensor(values, dtype=torch.float32)


def probabilities(shape, class_dim):
    """Rows of class probabilities along `class_dim`, in float32."""
    return torch.softmax(normal(shape, 2.0).double(), class_dim).float()


def log_probabilities(shape, class_dim):
    return torch.log_softmax(normal(shape, 2.0).double(), class_dim).float()


def hard_labels(shape):
    return integers(shape, 2).float()


# ----------------------------------------------------------------------------- JSON encoding

def encode_number(x, single):
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    # float32 inputs: the shortest decimal that reads back as the same float32 (fround in JS).
    return float(str(np.float32(x))) if single else x


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


def channels_last(t):
    """[N, C, d1..dk] -> [N, d1..dk, C]; ranks 1 and 2 already have the class axis last."""
    return t.movedim(1, -1) if t.dim() > 2 else t


# ----------------------------------------------------------------------------- running torch

def evaluate(loss_fn, input32, target, torch_kwargs, reduction, target_is_float):
    """Value and gradients in float64 for float32 inputs; `upstream` drawn for 'none'."""
    x = input32.double().requires_grad_(True)
    y = target.double().requires_grad_(True) if target_is_float else target
    kwargs = {k: (v.double() if isinstance(v, torch.Tensor) else v) for k, v in torch_kwargs.items()}
    if reduction is not None:
        kwargs["reduction"] = reduction
    value = loss_fn(x, y, **kwargs)
    upstream = None
    objective = value
    if reduction == "none" or (reduction is None and value.dim() > 0):
        upstream = normal(value.shape)
        objective = (value * upstream.double()).sum()
    wrt = [x, y] if target_is_float else [x]
    grads = torch.autograd.grad(objective, wrt, allow_unused=True)
    grads = [torch.zeros_like(w) if g is None else g for g, w in zip(grads, wrt)]
    return value.detach(), upstream, grads[0].detach(), (grads[1].detach() if target_is_float else None)


def make_case(name, loss_fn, input32, target, options, reduction, target_is_float,
              torch_kwargs, class_last=False, float_indices=False):
    """One fixture case. `options` are the library's options (without reduction); `torch_kwargs` torch's."""
    value, upstream, grad_input, grad_target = evaluate(
        loss_fn, input32, target, torch_kwargs, reduction, target_is_float)
    stored_target = target
    if class_last:
        input32 = channels_last(input32)
        grad_input = channels_last(grad_input)
        if target_is_float:
            stored_target = channels_last(target)
            grad_target = channels_last(grad_target)
        options = {**options, "classAxis": -1}
    if reduction is not None:
        options = {**options, "reduction": reduction}
    encoded_options = {k: (encode_tensor(v) if isinstance(v, torch.Tensor) else v) for k, v in options.items()}
    return {
        "name": name,
        "input": encode_tensor(input32),
        "target": encode_target(stored_target.float() if float_indices else stored_target,
                                target_is_float or float_indices),
        "options": encoded_options,
        "upstream": None if upstream is None else encode_tensor(upstream),
        "value": encode_tensor(value),
        "grad": {
            "input": encode_tensor(grad_input),
            "target": None if grad_target is None else encode_tensor(grad_target),
        },
    }


def shape_name(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


# ----------------------------------------------------------------------------- cross-entropy and NLL

CLASS_SHAPES = [[5], [4, 3], [2, 3, 4], [2, 3, 2, 3]]


def class_count(shape):
    return shape[0] if len(shape) == 1 else shape[1]


def sample_shape(shape):
    return [] if len(shape) == 1 else [shape[0]] + shape[2:]


def index_targets(shape, ignore=None):
    """Class indices for input `shape`; with `ignore`, about a third of them (for unbatched: the one) ignored."""
    targets = integers(sample_shape(shape), class_count(shape))
    if ignore is not None:
        mask = uniform(targets.shape) < 0.35
        if targets.dim() == 0:
            mask = torch.tensor(True)
        elif not mask.any():
            mask.view(-1)[0] = True
        targets = torch.where(mask, torch.tensor(ignore), targets)
    return targets


def class_weight(classes):
    return uniform([classes], 0.2, 2.0)


def torch_class_kwargs(options):
    """The library's class-loss options under torch's names."""
    names = {"weight": "weight", "ignoreIndex": "ignore_index", "labelSmoothing": "label_smoothing", "gamma": "gamma"}
    return {names[k]: v for k, v in options.items() if k in names}


def index_cases(loss_name, loss_fn, make_input, option_sets):
    """Index-target cases for each shape and option set, every reduction; default options once."""
    cases = []
    for shape in CLASS_SHAPES:
        classes = class_count(shape)
        x = make_input(shape)
        y = index_targets(shape)
        cases.append(make_case(f"{loss_name} {shape_name(shape)} defaults", loss_fn, x, y, {}, None, False, {}))
        for label, build in option_sets:
            options, ignore = build(classes)
            x = make_input(shape)
            y = index_targets(shape, ignore)
            for reduction in REDUCTIONS:
                cases.append(make_case(f"{loss_name} {shape_name(shape)} {label} {reduction}", loss_fn, x, y,
                                       options, reduction, False, torch_class_kwargs(options)))
    return cases


def channels_last_index_cases(loss_name, loss_fn, make_input, extra):
    cases = []
    for shape in CLASS_SHAPES[1:]:
        classes = class_count(shape)
        options = {"weight": class_weight(classes), "ignoreIndex": -100, **extra}
        x = make_input(shape)
        y = index_targets(shape, -100)
        for reduction in REDUCTIONS:
            cases.append(make_case(f"{loss_name} {shape_name(shape)} channels-last weight+ignoreIndex"
                                   f"{'+labelSmoothing' if extra else ''} {reduction}",
                                   loss_fn, x, y, options, reduction, False, torch_class_kwargs(options),
                                   class_last=True))
        x = make_input(shape)
        y = index_targets(shape)
        cases.append(make_case(f"{loss_name} {shape_name(shape)} channels-last defaults", loss_fn, x, y, {}, None,
                               False, {}, class_last=True))
    return cases


def edge_index_cases(loss_name, loss_fn, make_input, smoothing):
    """All targets ignored, weights summing to 0, empty batch, one class, batch of one, float32 indices."""
    ls = {"labelSmoothing": 0.2} if smoothing else {}
    cases = []
    x = make_input([3, 4])
    all_ignored = torch.full([3], -100, dtype=torch.int64)
    for reduction in REDUCTIONS:
        cases.append(make_case(f"{loss_name} [3,4] every target ignored {reduction}", loss_fn, x, all_ignored, {},
                               reduction, False, {}))
    options = {"weight": class_weight(4), "ignoreIndex": 2, **ls}
    for reduction in ("mean", "sum"):
        cases.append(make_case(f"{loss_name} [3,4] every target ignored (ignoreIndex 2) weight{'+labelSmoothing' if ls else ''} {reduction}",
                               loss_fn, x, torch.full([3], 2, dtype=torch.int64), options, reduction, False,
                               torch_class_kwargs(options)))
    x = make_input([2, 3, 2])
    options = {"ignoreIndex": -1}
    cases.append(make_case(f"{loss_name} [2,3,2] every target ignored (ignoreIndex -1) mean", loss_fn, x,
                           torch.full([2, 2], -1, dtype=torch.int64), options, "mean", False, torch_class_kwargs(options)))
    x = make_input([5])
    cases.append(make_case(f"{loss_name} [5] unbatched ignored mean", loss_fn, x, torch.tensor(-100), {}, "mean", False, {}))

    zero_weight = f32([0.0, 1.5, 0.5, 2.0])
    x = make_input([3, 4])
    targets = torch.tensor([0, 0, 0])
    for reduction in REDUCTIONS:
        options = {"weight": zero_weight, **ls}
        cases.append(make_case(f"{loss_name} [3,4] every target of weight 0{' labelSmoothing' if ls else ''} {reduction}",
                               loss_fn, x, targets, options, reduction, False, torch_class_kwargs(options)))
    options = {"weight": zero_weight}
    cases.append(make_case(f"{loss_name} [3,4] some targets of weight 0 mean", loss_fn, x, torch.tensor([0, 3, 1]),
                           options, "mean", False, torch_class_kwargs(options)))

    for shape in ([0, 3], [0, 3, 2]):
        x = make_input(shape)
        y = torch.zeros(sample_shape(shape), dtype=torch.int64)
        for reduction in REDUCTIONS:
            options = {"weight": class_weight(3), **ls}
            cases.append(make_case(f"{loss_name} {shape_name(shape)} empty batch {reduction}", loss_fn, x, y, {},
                                   reduction, False, {}))
            cases.append(make_case(f"{loss_name} {shape_name(shape)} empty batch weight{'+labelSmoothing' if ls else ''} {reduction}",
                                   loss_fn, x, y, options, reduction, False, torch_class_kwargs(options)))

    for shape in ([4, 1], [2, 1, 3]):
        x = make_input(shape)
        y = torch.zeros(sample_shape(shape), dtype=torch.int64)
        for reduction in REDUCTIONS:
            options = {"weight": f32([1.75]), **ls}
            cases.append(make_case(f"{loss_name} {shape_name(shape)} one class {reduction}", loss_fn, x, y, {},
                                   reduction, False, {}))
            cases.append(make_case(f"{loss_name} {shape_name(shape)} one class weight{'+labelSmoothing' if ls else ''} {reduction}",
                                   loss_fn, x, y, options, reduction, False, torch_class_kwargs(options)))

    x = make_input([1, 4])
    for reduction in REDUCTIONS:
        options = {"weight": class_weight(4), **ls}
        cases.append(make_case(f"{loss_name} [1,4] batch of one weight{'+labelSmoothing' if ls else ''} {reduction}",
                               loss_fn, x, torch.tensor([2]), options, reduction, False, torch_class_kwargs(options)))

    x = make_input([5, 3])
    y = index_targets([5, 3])
    options = {"weight": class_weight(3), **ls}
    for reduction in ("mean", "none"):
        cases.append(make_case(f"{loss_name} [5,3] float32 class indices weight{'+labelSmoothing' if ls else ''} {reduction}",
                               loss_fn, x, y, options, reduction, False, torch_class_kwargs(options), float_indices=True))
    x = make_input([2, 3, 4])
    y = index_targets([2, 3, 4])
    cases.append(make_case(f"{loss_name} [2,3,4] float32 class indices channels-last mean", loss_fn, x, y, {},
                           "mean", False, {}, class_last=True, float_indices=True))
    return cases


def cross_entropy_fixtures():
    loss = F.cross_entropy
    logits = lambda shape: normal(shape, 2.0)
    option_sets = [
        ("weight", lambda c: ({"weight": class_weight(c)}, None)),
        ("ignoreIndex hits", lambda c: ({}, -100)),
        ("ignoreIndex 1", lambda c: ({"ignoreIndex": 1}, 1)),
        ("labelSmoothing", lambda c: ({"labelSmoothing": 0.1}, None)),
        ("weight+labelSmoothing", lambda c: ({"weight": class_weight(c), "labelSmoothing": 0.2}, None)),
        ("weight+ignoreIndex+labelSmoothing",
         lambda c: ({"weight": class_weight(c), "ignoreIndex": -100, "labelSmoothing": 0.3}, -100)),
        ("weight+ignoreIndex 0+labelSmoothing",
         lambda c: ({"weight": class_weight(c), "ignoreIndex": 0, "labelSmoothing": 0.05}, 0)),
        ("labelSmoothing 1", lambda c: ({"labelSmoothing": 1.0}, None)),
    ]
    cases = index_cases("crossEntropy", loss, logits, option_sets)
    cases += channels_last_index_cases("crossEntropy", loss, logits, {"labelSmoothing": 0.15})
    cases += edge_index_cases("crossEntropy", loss, logits, smoothing=True)

    # Class-probability targets (same shape as the input), every shape, with weights and smoothing.
    probability_sets = [
        ("", {}),
        (" weight", {"weight": None}),
        (" labelSmoothing", {"labelSmoothing": 0.1}),
        (" weight+labelSmoothing", {"weight": None, "labelSmoothing": 0.25}),
    ]
    for shape in CLASS_SHAPES:
        classes = class_count(shape)
        class_dim = 0 if len(shape) == 1 else 1
        for label, template in probability_sets:
            options = {k: (class_weight(classes) if k == "weight" else v) for k, v in template.items()}
            x = logits(shape)
            t = probabilities(shape, class_dim)
            for reduction in REDUCTIONS:
                cases.append(make_case(f"crossEntropy {shape_name(shape)} probability targets{label} {reduction}", loss,
                                       x, t, options, reduction, True, torch_class_kwargs(options)))
    for shape in CLASS_SHAPES[2:]:
        options = {"weight": class_weight(3), "labelSmoothing": 0.1}
        x = logits(shape)
        t = probabilities(shape, 1)
        for reduction in REDUCTIONS:
            cases.append(make_case(f"crossEntropy {shape_name(shape)} probability targets channels-last weight+labelSmoothing {reduction}",
                                   loss, x, t, options, reduction, True, torch_class_kwargs(options), class_last=True))
    # Soft targets that are not distributions (PyTorch does not require rows to sum to 1).
    x = logits([3, 4])
    t = uniform([3, 4], 0.0, 1.5)
    for reduction in ("mean", "none"):
        cases.append(make_case(f"crossEntropy [3,4] probability targets not summing to 1 {reduction}", loss, x, t, {},
                               reduction, True, {}))
    for shape in ([0, 3], [0, 3, 2]):
        for reduction in REDUCTIONS:
            options = {"weight": class_weight(3), "labelSmoothing": 0.1}
            cases.append(make_case(f"crossEntropy {shape_name(shape)} empty batch probability targets weight+labelSmoothing {reduction}",
                                   loss, logits(shape), uniform(shape), options, reduction, True, torch_class_kwargs(options)))
    for reduction in REDUCTIONS:
        cases.append(make_case(f"crossEntropy [4,1] one class probability targets {reduction}", loss, logits([4, 1]),
                               uniform([4, 1]), {"labelSmoothing": 0.1}, reduction, True, {"label_smoothing": 0.1}))

    # Extreme logits: |z| up to 1e4, large spreads, and tiny logits.
    extreme = f32([[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, -1e4, -9999.0], [3e3, -2e3, 1e4, 1e4],
                   [80.0, -80.0, 88.7, -103.0], [1e-6, -1e-6, 0.0, 2e-6]])
    targets = torch.tensor([1, 3, 0, 2, 1])
    for label, options in [("", {}), (" weight+labelSmoothing", {"weight": f32([0.5, 2.0, 1.0, 1.25]), "labelSmoothing": 0.1})]:
        for reduction in REDUCTIONS:
            cases.append(make_case(f"crossEntropy [5,4] extreme logits{label} {reduction}", loss, extreme, targets,
                                   options, reduction, False, torch_class_kwargs(options)))
        t = probabilities([5, 4], 1)
        t[0] = f32([0.0, 1.0, 0.0, 0.0])
        for reduction in REDUCTIONS:
            cases.append(make_case(f"crossEntropy [5,4] extreme logits probability targets{label} {reduction}", loss,
                                   extreme, t, options, reduction, True, torch_class_kwargs(options)))
    tiny = normal([4, 3], 1e-6)
    for reduction in ("mean", "none"):
        cases.append(make_case(f"crossEntropy [4,3] tiny logits {reduction}", loss, tiny, torch.tensor([0, 2, 1, 2]), {},
                               reduction, False, {}))
    wide = normal([3, 10], 3.0)
    for reduction in ("mean", "none"):
        options = {"weight": class_weight(10), "labelSmoothing": 0.1}
        cases.append(make_case(f"crossEntropy [3,10] ten classes weight+labelSmoothing {reduction}", loss, wide,
                               index_targets([3, 10]), options, reduction, False, torch_class_kwargs(options)))
    return cases


def nll_fixtures():
    loss = F.nll_loss
    make_input = lambda shape: log_probabilities(shape, 0 if len(shape) == 1 else 1)
    option_sets = [
        ("weight", lambda c: ({"weight": class_weight(c)}, None)),
        ("ignoreIndex hits", lambda c: ({}, -100)),
        ("ignoreIndex 1", lambda c: ({"ignoreIndex": 1}, 1)),
        ("weight+ignoreIndex", lambda c: ({"weight": class_weight(c), "ignoreIndex": -100}, -100)),
        ("weight+ignoreIndex 2", lambda c: ({"weight": class_weight(c), "ignoreIndex": 2}, 2)),
    ]
    cases = index_cases("nllLoss", loss, make_input, option_sets)
    cases += channels_last_index_cases("nllLoss", loss, make_input, {})
    cases += edge_index_cases("nllLoss", loss, make_input, smoothing=False)
    # NLL does not require log-probabilities: arbitrary values, large values and -Infinity.
    x = normal([4, 3], 50.0)
    for reduction in REDUCTIONS:
        options = {"weight": class_weight(3)}
        cases.append(make_case(f"nllLoss [4,3] arbitrary inputs weight {reduction}", loss, x, index_targets([4, 3]),
                               options, reduction, False, torch_class_kwargs(options)))
    x = f32([[-float("inf"), -1.0, -0.5], [-1e4, float("-inf"), 1e4], [-3e38, -0.25, -1e-6]])
    for reduction in REDUCTIONS:
        cases.append(make_case(f"nllLoss [3,3] -Infinity and extreme inputs {reduction}", loss, x, torch.tensor([1, 2, 0]),
                               {}, reduction, False, {}))
    x = f32([[-float("inf"), -1.0, -0.5], [-2.0, -0.1, -3.0]])
    for reduction in REDUCTIONS:
        cases.append(make_case(f"nllLoss [2,3] -Infinity at the target {reduction}", loss, x, torch.tensor([0, 1]),
                               {}, reduction, False, {}))
    return cases


# ----------------------------------------------------------------------------- BCE and BCE with logits

# For each input shape, the weight shapes that broadcast against it (PyTorch broadcasts weight to the target).
ELEMENTWISE_SHAPES = [
    ([6], [[6], [1]]),
    ([4, 3], [[4, 3], [3], [4, 1]]),
    ([2, 3, 2, 2], [[3, 1, 1], [2, 3, 2, 2]]),
]


def bce_loss(x, y, **kwargs):
    return F.binary_cross_entropy(x, y, **kwargs)


def bce_with_logits_loss(x, y, pos_weight=None, **kwargs):
    return F.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight, **kwargs)


def elementwise_kwargs(options):
    names = {"weight": "weight", "posWeight": "pos_weight"}
    return {names[k]: v for k, v in options.items()}


def elementwise_targets(shape, soft):
    return uniform(shape) if soft else hard_labels(shape)


def bce_fixtures():
    name = "binaryCrossEntropy"
    probability = lambda shape: uniform(shape, 0.02, 0.98)
    cases = []
    for shape, weight_shapes in ELEMENTWISE_SHAPES:
        cases.append(make_case(f"{name} {shape_name(shape)} defaults", bce_loss, probability(shape),
                               hard_labels(shape), {}, None, True, {}))
        for soft in (False, True):
            kind = "soft targets" if soft else "hard targets"
            for weight_shape in [None] + weight_shapes:
                options = {} if weight_shape is None else {"weight": uniform(weight_shape, 0.2, 2.0)}
                label = "" if weight_shape is None else f" weight {shape_name(weight_shape)}"
                x = probability(shape)
                y = elementwise_targets(shape, soft)
                for reduction in REDUCTIONS:
                    cases.append(make_case(f"{name} {shape_name(shape)} {kind}{label} {reduction}", bce_loss, x, y,
                                           options, reduction, True, elementwise_kwargs(options)))
    for reduction in REDUCTIONS:
        cases.append(make_case(f"{name} [] scalar {reduction}", bce_loss, f32(0.3), f32(1.0), {}, reduction, True, {}))
    # Where the -100 log clamp acts (0, 1 and a float32 denormal below e^-100), and near it.
    x = f32([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1e-45, 1e-44, 1e-6, 1e-6, 1.0 - 2.0 ** -24, 1.0 - 1e-6, 1e-30, 0.5])
    y = f32([0.0, 1.0, 1.0, 0.0, 0.3, 0.6, 1.0, 0.0, 1.0, 0.25, 0.0, 1.0, 0.5, 0.5])
    for label, options in [("", {}), (" weight", {"weight": uniform([14], 0.2, 2.0)})]:
        for reduction in REDUCTIONS:
            cases.append(make_case(f"{name} [14] probabilities at and near 0 and 1{label} {reduction}", bce_loss, x, y,
                                   options, reduction, True, elementwise_kwargs(options)))
    for shape in ([0], [0, 3]):
        for reduction in REDUCTIONS:
            options = {"weight": uniform([3] if len(shape) == 2 else [1], 0.2, 2.0)}
            cases.append(make_case(f"{name} {shape_name(shape)} empty batch weight {reduction}", bce_loss,
                                   probability(shape), uniform(shape), options, reduction, True, elementwise_kwargs(options)))
    for shape in ([4, 1], [1, 1], [1]):
        for reduction in REDUCTIONS:
            cases.append(make_case(f"{name} {shape_name(shape)} one column {reduction}", bce_loss, probability(shape),
                                   uniform(shape), {}, reduction, True, {}))
    return cases


def bce_with_logits_fixtures():
    name = "binaryCrossEntropyWithLogits"
    logits = lambda shape: normal(shape, 2.0)
    pos_weight_shapes = {1: [[6], [1]], 2: [[3]], 4: [[3, 1, 1]]}
    cases = []
    for shape, weight_shapes in ELEMENTWISE_SHAPES:
        cases.append(make_case(f"{name} {shape_name(shape)} defaults", bce_with_logits_loss, logits(shape),
                               hard_labels(shape), {}, None, True, {}))
        option_sets = [("", {})]
        option_sets += [(f" weight {shape_name(s)}", {"weight": s}) for s in weight_shapes]
        option_sets += [(f" posWeight {shape_name(s)}", {"posWeight": s}) for s in pos_weight_shapes[len(shape)]]
        option_sets.append((f" weight {shape_name(weight_shapes[-1])}+posWeight {shape_name(pos_weight_shapes[len(shape)][0])}",
                            {"weight": weight_shapes[-1], "posWeight": pos_weight_shapes[len(shape)][0]}))
        for soft in (False, True):
            kind = "soft targets" if soft else "hard targets"
            for label, option_shapes in option_sets:
                options = {k: uniform(s, 0.2, 3.0) for k, s in option_shapes.items()}
                x = logits(shape)
                y = elementwise_targets(shape, soft)
                for reduction in REDUCTIONS:
                    cases.append(make_case(f"{name} {shape_name(shape)} {kind}{label} {reduction}",
                                           bce_with_logits_loss, x, y, options, reduction, True,
                                           elementwise_kwargs(options)))
    for reduction in REDUCTIONS:
        cases.append(make_case(f"{name} [] scalar {reduction}", bce_with_logits_loss, f32(-1.5), f32(1.0), {},
                               reduction, True, {}))
    # Extreme logits: |z| up to 1e4 with hard and soft targets, and tiny logits.
    x = f32([1e4, -1e4, 1e4, -1e4, 1e4, -1e4, 88.0, -88.0, 104.0, -104.0, 30.0, -30.0, 1e-6, -1e-6])
    y = f32([1.0, 0.0, 0.0, 1.0, 0.3, 0.7, 0.0, 1.0, 0.5, 0.5, 1.0, 0.0, 1.0, 0.0])
    for label, options in [("", {}), (" weight+posWeight", {"weight": uniform([14], 0.2, 2.0), "posWeight": uniform([14], 0.2, 3.0)}),
                           (" posWeight [1]", {"posWeight": f32([4.0])})]:
        for reduction in REDUCTIONS:
            cases.append(make_case(f"{name} [14] extreme logits{label} {reduction}", bce_with_logits_loss, x, y,
                                   options, reduction, True, elementwise_kwargs(options)))
    x = normal([4, 3], 1e-6)
    for reduction in ("mean", "none"):
        options = {"posWeight": uniform([3], 0.2, 3.0)}
        cases.append(make_case(f"{name} [4,3] tiny logits posWeight {reduction}", bce_with_logits_loss, x,
                               uniform([4, 3]), options, reduction, True, elementwise_kwargs(options)))
    for shape in ([0], [0, 3]):
        for reduction in REDUCTIONS:
            options = {"weight": uniform([3] if len(shape) == 2 else [1], 0.2, 2.0),
                       "posWeight": uniform([3] if len(shape) == 2 else [1], 0.2, 2.0)}
            cases.append(make_case(f"{name} {shape_name(shape)} empty batch weight+posWeight {reduction}",
                                   bce_with_logits_loss, logits(shape), uniform(shape), options, reduction, True,
                                   elementwise_kwargs(options)))
    for shape in ([4, 1], [1, 1], [1]):
        for reduction in REDUCTIONS:
            options = {"posWeight": uniform([1], 0.2, 3.0)}
            cases.append(make_case(f"{name} {shape_name(shape)} one column posWeight [1] {reduction}",
                                   bce_with_logits_loss, logits(shape), hard_labels(shape), options, reduction, True,
                                   elementwise_kwargs(options)))
    return cases


# ----------------------------------------------------------------------------- focal losses

GAMMAS = (0.0, 0.5, 1.0, 2.0, 5.0)


def assert_close_where_finite(what, direct, stable):
    """The direct formula agrees with the stable one (to 1e-8) wherever the direct one is finite."""
    finite = torch.isfinite(direct)
    error = (direct - stable)[finite].abs()
    bound = 1e-8 + 1e-6 * stable[finite].abs()  # the direct formulas lose digits to 1 - p in float64
    if not bool((error <= bound).all()):
        worst = int((error - bound).argmax())
        raise SystemExit(f"{what}: direct and stable formulas differ by {float((error - bound).max())}: {direct[finite][worst]} vs {stable[finite][worst]}")


def log_softplus(z):
    """log(softplus(z)), finite for every finite z (softplus underflows below -745)."""
    return torch.where(z < -30, z, torch.log(F.softplus(z)))


def sigmoid_focal_gradients(x, y, alpha, gamma):
    """Per element, the closed-form derivatives of torchvision's loss, with every power of q = 1 - p_t
    taken in log space: d/dx = a_t·((σ(x) - y)·q^γ + γ·ce·q^(γ-1)·(1-2y)·σ(x)σ(-x)),
    d/dy = (2α-1)·ce·q^γ + a_t·(-x·q^γ + γ·(σ(-x) - σ(x))·ce·q^(γ-1))."""
    log_sig, log_sig_neg = F.logsigmoid(x), F.logsigmoid(-x)
    log_q = torch.logaddexp(torch.log(y) + log_sig_neg, torch.log1p(-y) + log_sig)
    log_ce = torch.logaddexp(torch.log1p(-y) + log_softplus(x), torch.log(y) + log_softplus(-x))
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    modulation = torch.exp(gamma * log_q) if gamma != 0 else torch.ones_like(x)
    alpha_t = alpha * y + (1 - alpha) * (1 - y) if alpha >= 0 else torch.ones_like(y)
    focus_x = gamma * ce * (1 - 2 * y) * torch.exp((gamma - 1) * log_q + log_sig + log_sig_neg) if gamma != 0 else 0
    focus_y = gamma * (log_sig_neg.exp() - log_sig.exp()) * torch.exp((gamma - 1) * log_q + log_ce) if gamma != 0 else 0
    dx = alpha_t * ((log_sig.exp() - y) * modulation + focus_x)
    dy = (2 * alpha - 1 if alpha >= 0 else 0) * ce * modulation + alpha_t * (-x * modulation + focus_y)
    return dx, dy


class TorchvisionSigmoidFocalLoss(torch.autograd.Function):
    """torchvision's sigmoid_focal_loss, its autograd gradient where finite, the closed form elsewhere."""

    @staticmethod
    def forward(ctx, x, y, alpha, gamma, reduction):
        ctx.save_for_backward(x, y)
        ctx.options = (alpha, gamma, reduction)
        return torchvision.ops.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma, reduction=reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        alpha, gamma, reduction = ctx.options
        with torch.enable_grad():
            xg, yg = x.detach().requires_grad_(True), y.detach().requires_grad_(True)
            value = torchvision.ops.sigmoid_focal_loss(xg, yg, alpha=alpha, gamma=gamma, reduction=reduction)
            direct = torch.autograd.grad(value, [xg, yg], grad)
        scale = grad / x.numel() if reduction == "mean" else grad
        closed = [g * scale for g in sigmoid_focal_gradients(x, y, alpha, gamma)]
        for name, d, c in zip(("d/dx", "d/dy"), direct, closed):
            assert_close_where_finite(f"sigmoid focal {name}", d, c)
        return tuple(torch.where(torch.isfinite(d), d, c) for d, c in zip(direct, closed)) + (None, None, None)


def sigmoid_focal_loss(x, y, alpha=0.25, gamma=2.0, reduction="none"):
    return TorchvisionSigmoidFocalLoss.apply(x, y, alpha, gamma, reduction)


def softmax_focal_loss(x, y, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean", gamma=2.0,
                       direct=False):
    """-Σ_c w_c·t'_c·(1 - p_c)^γ·lp_c over the class axis (1, or 0 unbatched), t' the smoothed one-hot
    index or probabilities; 'mean' with F.cross_entropy's denominators (Σ w[y] over kept indices, N for
    probabilities), the target and smoothing terms reduced apart as F.cross_entropy does (so a mean
    over weights summing to 0 is NaN). `direct` takes `(1 - p) ** γ` as written, for the check."""
    dim = 0 if x.dim() == 1 else 1
    classes = x.shape[dim]
    w = torch.ones(classes, dtype=x.dtype) if weight is None else weight
    w = w.reshape([classes] + [1] * (x.dim() - dim - 1))
    lp = F.log_softmax(x, dim)
    if direct:
        modulation = (1 - lp.exp()) ** gamma
    elif gamma == 0:
        modulation = torch.ones_like(x)
    else:
        last = x.movedim(dim, -1)
        diagonal = torch.eye(classes, dtype=torch.bool)
        others = torch.where(diagonal, torch.tensor(-math.inf, dtype=x.dtype), last.unsqueeze(-2).expand(*last.shape, classes))
        log_rest = torch.logsumexp(others, -1) - torch.logsumexp(last, -1, keepdim=True)  # log(1 - p_c)
        modulation = torch.exp(gamma * log_rest).movedim(-1, dim)
    terms = -w * modulation * lp
    if y.dtype.is_floating_point:
        per_sample = (((1 - label_smoothing) * y + label_smoothing / classes) * terms).sum(dim)
        return per_sample if reduction == "none" else per_sample.sum() / (per_sample.numel() if reduction == "mean" else 1)
    kept = y != ignore_index
    safe = torch.where(kept, y, torch.zeros_like(y))
    target_term = torch.where(kept, terms.gather(dim, safe.unsqueeze(dim)).squeeze(dim), torch.zeros((), dtype=x.dtype))
    smoothing_term = torch.where(kept, terms.sum(dim), torch.zeros((), dtype=x.dtype))
    if reduction == "none":
        return (1 - label_smoothing) * target_term + (label_smoothing / classes) * smoothing_term
    denominator = torch.where(kept, w.reshape(-1)[safe], torch.zeros((), dtype=x.dtype)).sum() if reduction == "mean" else 1
    loss = (1 - label_smoothing) * target_term.sum() / denominator
    if label_smoothing > 0:
        loss = loss + (label_smoothing / classes) * smoothing_term.sum() / denominator
    return loss


def checked_softmax_focal_loss(x, y, **kwargs):
    """softmax_focal_loss, checked in value and gradient against the direct formula (and F.cross_entropy at γ = 0)."""
    references = [functools.partial(softmax_focal_loss, direct=True)]
    if kwargs.get("gamma", 2.0) == 0:
        references.append(lambda x, y, gamma, **rest: F.cross_entropy(x, y, **rest))
    for reference in references:
        a, b = [xi.detach().clone().requires_grad_(True) for xi in (x, x)]
        ya, yb = [yi.detach().clone().requires_grad_(y.dtype.is_floating_point) for yi in (y, y)]
        stable, other = softmax_focal_loss(a, ya, **kwargs), reference(b, yb, **{"gamma": 2.0, **kwargs})
        assert_close_where_finite("softmax focal value", other.detach(), stable.detach())
        if stable.numel() > 0 and bool(torch.isfinite(stable).all()):
            wrt = lambda inputs: [t for t in inputs if t.requires_grad]
            grads = torch.autograd.grad(stable.sum(), wrt([a, ya]), allow_unused=True)
            others = torch.autograd.grad(other.sum(), wrt([b, yb]), allow_unused=True)
            for g, h in zip(grads, others):
                if g is not None and h is not None:
                    assert_close_where_finite("softmax focal gradient", h, g)
    return softmax_focal_loss(x, y, **kwargs)


def sigmoid_focal_fixtures():
    name = "sigmoidFocalLoss"
    logits = lambda shape: normal(shape, 2.5)
    cases = []
    for shape in ([6], [4, 3], [2, 3, 2, 2]):
        cases.append(make_case(f"{name} {shape_name(shape)} defaults", sigmoid_focal_loss, logits(shape),
                               hard_labels(shape), {}, None, True, {}))
    # Every gamma with alpha on, off and high, hard and soft targets, every reduction.
    for gamma in GAMMAS:
        for alpha in (0.25, -1.0, 0.9):
            for soft in (False, True):
                shape = [4, 3] if soft else [2, 3, 2]
                options = {"alpha": alpha, "gamma": gamma}
                x = logits(shape)
                y = elementwise_targets(shape, soft)
                for reduction in REDUCTIONS:
                    cases.append(make_case(f"{name} {shape_name(shape)} {'soft' if soft else 'hard'} targets alpha {alpha} "
                                           f"gamma {gamma} {reduction}", sigmoid_focal_loss, x, y, options, reduction,
                                           True, options))
    for alpha in (0.0, 1.0):
        options = {"alpha": alpha}
        cases.append(make_case(f"{name} [6] alpha {alpha} mean", sigmoid_focal_loss, logits([6]), uniform([6]),
                               options, "mean", True, options))
    # Extreme logits: |z| up to 1e4 with hard and soft targets (torchvision saturates; 0 < γ < 1 included).
    x = f32([1e4, -1e4, 1e4, -1e4, 1e4, -1e4, 88.0, -88.0, 104.0, -104.0, 30.0, -30.0, 20.0, -17.0, 1e-6, 0.0])
    y = f32([1.0, 0.0, 0.0, 1.0, 0.3, 0.7, 1.0, 0.0, 1.0, 0.5, 1.0, 0.0, 1.0, 0.0, 1.0, 0.25])
    for gamma in GAMMAS:
        for alpha in (0.25, -1.0):
            options = {"alpha": alpha, "gamma": gamma}
            for reduction in REDUCTIONS:
                cases.append(make_case(f"{name} [16] extreme logits alpha {alpha} gamma {gamma} {reduction}",
                                       sigmoid_focal_loss, x, y, options, reduction, True, options))
    for reduction in REDUCTIONS:
        cases.append(make_case(f"{name} [] scalar {reduction}", sigmoid_focal_loss, f32(-1.5), f32(1.0), {},
                               reduction, True, {}))
        for shape in ([0], [0, 3]):
            cases.append(make_case(f"{name} {shape_name(shape)} empty {reduction}", sigmoid_focal_loss, logits(shape),
                                   uniform(shape), {}, reduction, True, {}))
    return cases


def softmax_focal_fixtures():
    name = "softmaxFocalLoss"
    loss = checked_softmax_focal_loss
    logits = lambda shape: normal(shape, 2.0)
    option_sets = [(f"gamma {g}", lambda c, g=g: ({"gamma": g}, None)) for g in GAMMAS]
    option_sets += [
        ("weight", lambda c: ({"weight": class_weight(c)}, None)),
        ("ignoreIndex hits gamma 0.5", lambda c: ({"gamma": 0.5}, -100)),
        ("ignoreIndex 1", lambda c: ({"ignoreIndex": 1}, 1)),
        ("labelSmoothing gamma 1", lambda c: ({"labelSmoothing": 0.1, "gamma": 1.0}, None)),
        ("weight+ignoreIndex+labelSmoothing gamma 5",
         lambda c: ({"weight": class_weight(c), "ignoreIndex": -100, "labelSmoothing": 0.3, "gamma": 5.0}, -100)),
        ("weight+ignoreIndex 0+labelSmoothing gamma 0",
         lambda c: ({"weight": class_weight(c), "ignoreIndex": 0, "labelSmoothing": 0.05, "gamma": 0.0}, 0)),
        ("weight+labelSmoothing gamma 0.5", lambda c: ({"weight": class_weight(c), "labelSmoothing": 0.2, "gamma": 0.5}, None)),
    ]
    cases = index_cases(name, loss, logits, option_sets)
    cases += channels_last_index_cases(name, loss, logits, {"labelSmoothing": 0.15, "gamma": 0.5})
    cases += edge_index_cases(name, loss, logits, smoothing=True)
    for shape in CLASS_SHAPES:
        classes = class_count(shape)
        class_dim = 0 if len(shape) == 1 else 1
        for gamma in GAMMAS:
            options = {"gamma": gamma, "weight": class_weight(classes), "labelSmoothing": 0.1} if gamma in (0.5, 2.0) else {"gamma": gamma}
            label = "+weight+labelSmoothing" if "weight" in options else ""
            x = logits(shape)
            t = probabilities(shape, class_dim)
            for reduction in REDUCTIONS:
                cases.append(make_case(f"{name} {shape_name(shape)} probability targets gamma {gamma}{label} {reduction}",
                                       loss, x, t, options, reduction, True, torch_class_kwargs(options)))
    for shape in CLASS_SHAPES[2:]:
        options = {"weight": class_weight(3), "labelSmoothing": 0.1, "gamma": 1.0}
        for reduction in REDUCTIONS:
            cases.append(make_case(f"{name} {shape_name(shape)} probability targets channels-last weight+labelSmoothing "
                                   f"gamma 1 {reduction}", loss, logits(shape), probabilities(shape, 1), options,
                                   reduction, True, torch_class_kwargs(options), class_last=True))
    # Extreme logits: |z| up to 1e4 (1 - p underflows to 0 for the confident rows), every gamma.
    extreme = f32([[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, -1e4, -9999.0], [3e3, -2e3, 1e4, 1e4],
                   [80.0, -80.0, 88.7, -103.0], [1e-6, -1e-6, 0.0, 2e-6], [40.0, 0.0, 0.0, 0.0]])
    targets = torch.tensor([1, 3, 0, 2, 1, 0])
    for gamma in GAMMAS:
        for label, options in [("", {"gamma": gamma}),
                               (" weight+labelSmoothing", {"gamma": gamma, "weight": f32([0.5, 2.0, 1.0, 1.25]),
                                                           "labelSmoothing": 0.1})]:
            for reduction in REDUCTIONS:
                cases.append(make_case(f"{name} [6,4] extreme logits gamma {gamma}{label} {reduction}", loss, extreme,
                                       targets, options, reduction, False, torch_class_kwargs(options)))
            t = probabilities([6, 4], 1)
            t[0] = f32([0.0, 1.0, 0.0, 0.0])
            cases.append(make_case(f"{name} [6,4] extreme logits probability targets gamma {gamma}{label} mean", loss,
                                   extreme, t, options, "mean", True, torch_class_kwargs(options)))
    wide = normal([3, 10], 3.0)
    for reduction in ("mean", "none"):
        options = {"weight": class_weight(10), "labelSmoothing": 0.1, "gamma": 2.0}
        cases.append(make_case(f"{name} [3,10] ten classes weight+labelSmoothing {reduction}", loss, wide,
                               index_targets([3, 10]), options, reduction, False, torch_class_kwargs(options)))
    return cases


# ----------------------------------------------------------------------------- KL divergence

def kl_div(x, t, log_target=False, **kwargs):
    return F.kl_div(x, t, log_target=log_target, **kwargs)


def kl_divergence_fixtures():
    name = "klDivergence"
    kl_reductions = ("mean", "batchmean", "sum", "none")
    cases = []
    for shape in ([5], [4, 3], [2, 3, 4], [2, 3, 2, 2]):
        class_dim = 0 if len(shape) == 1 else 1
        x = log_probabilities(shape, class_dim)
        t = probabilities(shape, class_dim)
        cases.append(make_case(f"{name} {shape_name(shape)} defaults", kl_div, x, t, {}, None, True, {}))
        for log_target in (False, True):
            options = {"logTarget": True} if log_target else {}
            kwargs = {"log_target": True} if log_target else {}
            x = log_probabilities(shape, class_dim)
            t = log_probabilities(shape, class_dim) if log_target else probabilities(shape, class_dim)
            for reduction in kl_reductions:
                cases.append(make_case(f"{name} {shape_name(shape)}{' logTarget' if log_target else ''} {reduction}",
                                       kl_div, x, t, options, reduction, True, kwargs))
    # Targets of exactly 0 (adding 0; their gradient is NaN, 0/0 in PyTorch's xlogy), arbitrary inputs.
    x = normal([3, 4], 3.0)
    t = f32([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    for reduction in kl_reductions:
        cases.append(make_case(f"{name} [3,4] zero targets, arbitrary inputs {reduction}", kl_div, x, t, {}, reduction,
                               True, {}))
    x = f32([[-1e4, -0.5, -30.0], [-88.0, -1e-6, -20.0]])
    for log_target in (False, True):
        t = f32([[-1e4, -1.0, -104.0], [-3.0, -1e-7, -0.5]]) if log_target else f32([[1e-30, 0.3, 0.7], [1e-6, 1.0, 0.5]])
        options = {"logTarget": True} if log_target else {}
        for reduction in kl_reductions:
            cases.append(make_case(f"{name} [2,3] extreme values{' logTarget' if log_target else ''} {reduction}", kl_div,
                                   x, t, options, reduction, True, {"log_target": log_target}))
    for reduction in kl_reductions:
        cases.append(make_case(f"{name} [] scalar {reduction}", kl_div, f32(-1.5), f32(0.4), {}, reduction, True, {}))
        cases.append(make_case(f"{name} [0,3] empty {reduction}", kl_div, normal([0, 3]), uniform([0, 3]), {},
                               reduction, True, {}))
    return cases


# ----------------------------------------------------------------------------- main

FIXTURES = {
    "crossEntropy": cross_entropy_fixtures,
    "nllLoss": nll_fixtures,
    "binaryCrossEntropy": bce_fixtures,
    "binaryCrossEntropyWithLogits": bce_with_logits_fixtures,
    "sigmoidFocalLoss": sigmoid_focal_fixtures,
    "softmaxFocalLoss": softmax_focal_fixtures,
    "klDivergence": kl_divergence_fixtures,
}


def main():
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for loss_name, build in FIXTURES.items():
        cases = build()
        names = [case["name"] for case in cases]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SystemExit(f"{loss_name}: duplicate case names {duplicates}")
        document = {"generator": "tools/generate_fixtures.py", "torch": torch.__version__, "cases": cases}
        path = OUT_DIR / f"{loss_name}.json"
        text = json.dumps(document, allow_nan=False, separators=(",", ":"))
        path.write_text(text + "\n")
        print(f"{path.relative_to(OUT_DIR.parent.parent)}: {len(cases)} cases, {len(text) // 1024} KB")


if __name__ == "__main__":
    main()
