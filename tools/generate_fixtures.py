#!/usr/bin/python3
"""Writes the PyTorch golden fixtures of the losses to __tests__/fixtures/<loss>.json.

Run by hand with Debian's PyTorch (never in CI):

    /usr/bin/python3 tools/generate_fixtures.py

Every case is recorded by `record_many` of python/record_fixture.py, the recorder shipped to users, so
the files are in the documented fixture format (docs/fixture-format.md) and `verify --fixtures` reads
them. Every input is drawn in float32 and the recorder computes on float64 copies, so each stored value
and gradient is PyTorch's answer, to float64 precision, for exactly the float32 numbers stored. The
grid is seeded: running the script again writes the same files.

Each case is the call `loss(input, target, **options)`, options under the library's names, with the
gradient with respect to the input and, when the target is float (BCE, BCE-with-logits, KL, the focal
losses, and class-probability targets of cross-entropy), the target; for reduction 'none' the gradient
is of `sum(loss * upstream)` with the recorder's seeded `upstream`. Two small wrappers give PyTorch what
it takes: channels-last cases (the option `classAxis: -1`) are drawn channels-first, stored moved and
moved back for the call; float32 class indices are stored as float32 and given to PyTorch as int64.

The focal losses: `sigmoidFocalLoss` is torchvision's `sigmoid_focal_loss`, value and autograd
gradients; where that gradient is not finite in float64 (0·∞ in `(1 - p_t)^γ` at saturated logits
with 0 < γ < 1), the closed form of `sigmoid_focal_gradients` stands in, after the script has checked
that it agrees with torchvision on every element where torchvision is finite. PyTorch has no
multiclass focal loss: `softmax_focal_loss` below is its formula in float64 torch ops with autograd,
`(1 - p)^γ` as `exp(γ·log(1 - p))` from a log-sum-exp of the other classes; the script checks it
against the direct `(1 - p) ** γ` wherever that is finite, and at γ = 0 against `F.cross_entropy`.
"""

import functools
import importlib.util
import math
import pathlib

import torch
import torch.nn.functional as F
import torchvision

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "__tests__" / "fixtures"
SEED = 20240613
REDUCTIONS = ("mean", "sum", "none")


def load_recorder():
    """python/record_fixture.py, imported by path as a user would copy it."""
    spec = importlib.util.spec_from_file_location("record_fixture", ROOT / "python" / "record_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


record_fixture = load_recorder()
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


# ----------------------------------------------------------------------------- cases for the recorder

def case(name, loss_fn, input32, target, kwargs, reduction, differentiate_target):
    """One case of `record_many`: `loss_fn(input, target, **kwargs, reduction=reduction)` (options under
    PyTorch's names; reduction None leaves loss_fn's default), differentiated with respect to the input and,
    with `differentiate_target`, the target."""
    return {
        "name": name,
        "fn": loss_fn,
        "args": (input32.detach().requires_grad_(True), target.detach().requires_grad_(differentiate_target)),
        "kwargs": {**kwargs, "reduction": reduction},
    }


def channels_last(t):
    """[N, C, d1..dk] -> [N, d1..dk, C]; ranks 1 and 2 already have the class axis last."""
    return t.movedim(1, -1) if t.dim() > 2 else t


def classes_at(loss_fn):
    """`loss_fn` taking the library's option `classAxis`: the class axis of the input, and of probability
    targets (the input's shape), moved to axis 1 for PyTorch."""
    def loss(input, target, classAxis, **kwargs):
        to_torch = lambda t: t.movedim(classAxis, 1) if t.dim() > 1 else t
        return loss_fn(to_torch(input), to_torch(target) if target.dim() == input.dim() else target, **kwargs)
    return loss


def channels_last_case(name, loss_fn, input32, target, kwargs, reduction, differentiate_target):
    """A case with the input (and probability targets) drawn channels-first and stored channels-last."""
    stored_target = channels_last(target) if target.dim() == input32.dim() else target
    return case(name, classes_at(loss_fn), channels_last(input32), stored_target, {**kwargs, "classAxis": -1},
                reduction, differentiate_target)


def float_indices(loss_fn):
    """`loss_fn` given class indices as float32 numbers, as the library takes them; PyTorch wants int64."""
    def loss(input, target, **kwargs):
        return loss_fn(input, target.long(), **kwargs)
    return loss


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


def index_cases(loss_name, loss_fn, make_input, option_sets):
    """Index-target cases for each shape and option set, every reduction; default options once."""
    cases = []
    for shape in CLASS_SHAPES:
        classes = class_count(shape)
        x = make_input(shape)
        y = index_targets(shape)
        cases.append(case(f"{loss_name} {shape_name(shape)} defaults", loss_fn, x, y, {}, None, False))
        for label, build in option_sets:
            options, ignore = build(classes)
            x = make_input(shape)
            y = index_targets(shape, ignore)
            for reduction in REDUCTIONS:
                cases.append(case(f"{loss_name} {shape_name(shape)} {label} {reduction}", loss_fn, x, y, options,
                                  reduction, False))
    return cases


def channels_last_index_cases(loss_name, loss_fn, make_input, extra):
    cases = []
    for shape in CLASS_SHAPES[1:]:
        classes = class_count(shape)
        options = {"weight": class_weight(classes), "ignore_index": -100, **extra}
        x = make_input(shape)
        y = index_targets(shape, -100)
        for reduction in REDUCTIONS:
            cases.append(channels_last_case(f"{loss_name} {shape_name(shape)} channels-last weight+ignoreIndex"
                                            f"{'+labelSmoothing' if extra else ''} {reduction}",
                                            loss_fn, x, y, options, reduction, False))
        x = make_input(shape)
        y = index_targets(shape)
        cases.append(channels_last_case(f"{loss_name} {shape_name(shape)} channels-last defaults", loss_fn, x, y, {},
                                        None, False))
    return cases


def edge_index_cases(loss_name, loss_fn, make_input, smoothing):
    """All targets ignored, weights summing to 0, empty batch, one class, batch of one, float32 indices."""
    ls = {"label_smoothing": 0.2} if smoothing else {}
    cases = []
    x = make_input([3, 4])
    all_ignored = torch.full([3], -100, dtype=torch.int64)
    for reduction in REDUCTIONS:
        cases.append(case(f"{loss_name} [3,4] every target ignored {reduction}", loss_fn, x, all_ignored, {},
                          reduction, False))
    options = {"weight": class_weight(4), "ignore_index": 2, **ls}
    for reduction in ("mean", "sum"):
        cases.append(case(f"{loss_name} [3,4] every target ignored (ignoreIndex 2) weight{'+labelSmoothing' if ls else ''} {reduction}",
                          loss_fn, x, torch.full([3], 2, dtype=torch.int64), options, reduction, False))
    x = make_input([2, 3, 2])
    cases.append(case(f"{loss_name} [2,3,2] every target ignored (ignoreIndex -1) mean", loss_fn, x,
                      torch.full([2, 2], -1, dtype=torch.int64), {"ignore_index": -1}, "mean", False))
    x = make_input([5])
    cases.append(case(f"{loss_name} [5] unbatched ignored mean", loss_fn, x, torch.tensor(-100), {}, "mean", False))

    zero_weight = f32([0.0, 1.5, 0.5, 2.0])
    x = make_input([3, 4])
    targets = torch.tensor([0, 0, 0])
    for reduction in REDUCTIONS:
        cases.append(case(f"{loss_name} [3,4] every target of weight 0{' labelSmoothing' if ls else ''} {reduction}",
                          loss_fn, x, targets, {"weight": zero_weight, **ls}, reduction, False))
    cases.append(case(f"{loss_name} [3,4] some targets of weight 0 mean", loss_fn, x, torch.tensor([0, 3, 1]),
                      {"weight": zero_weight}, "mean", False))

    for shape in ([0, 3], [0, 3, 2]):
        x = make_input(shape)
        y = torch.zeros(sample_shape(shape), dtype=torch.int64)
        for reduction in REDUCTIONS:
            options = {"weight": class_weight(3), **ls}
            cases.append(case(f"{loss_name} {shape_name(shape)} empty batch {reduction}", loss_fn, x, y, {},
                              reduction, False))
            cases.append(case(f"{loss_name} {shape_name(shape)} empty batch weight{'+labelSmoothing' if ls else ''} {reduction}",
                              loss_fn, x, y, options, reduction, False))

    for shape in ([4, 1], [2, 1, 3]):
        x = make_input(shape)
        y = torch.zeros(sample_shape(shape), dtype=torch.int64)
        for reduction in REDUCTIONS:
            cases.append(case(f"{loss_name} {shape_name(shape)} one class {reduction}", loss_fn, x, y, {},
                              reduction, False))
            cases.append(case(f"{loss_name} {shape_name(shape)} one class weight{'+labelSmoothing' if ls else ''} {reduction}",
                              loss_fn, x, y, {"weight": f32([1.75]), **ls}, reduction, False))

    x = make_input([1, 4])
    for reduction in REDUCTIONS:
        cases.append(case(f"{loss_name} [1,4] batch of one weight{'+labelSmoothing' if ls else ''} {reduction}",
                          loss_fn, x, torch.tensor([2]), {"weight": class_weight(4), **ls}, reduction, False))

    x = make_input([5, 3])
    y = index_targets([5, 3])
    options = {"weight": class_weight(3), **ls}
    for reduction in ("mean", "none"):
        cases.append(case(f"{loss_name} [5,3] float32 class indices weight{'+labelSmoothing' if ls else ''} {reduction}",
                          float_indices(loss_fn), x, y.float(), options, reduction, False))
    x = make_input([2, 3, 4])
    y = index_targets([2, 3, 4])
    cases.append(channels_last_case(f"{loss_name} [2,3,4] float32 class indices channels-last mean",
                                    float_indices(loss_fn), x, y.float(), {}, "mean", False))
    return cases


def cross_entropy_fixtures():
    name = "crossEntropy"
    loss = F.cross_entropy
    logits = lambda shape: normal(shape, 2.0)
    option_sets = [
        ("weight", lambda c: ({"weight": class_weight(c)}, None)),
        ("ignoreIndex hits", lambda c: ({}, -100)),
        ("ignoreIndex 1", lambda c: ({"ignore_index": 1}, 1)),
        ("labelSmoothing", lambda c: ({"label_smoothing": 0.1}, None)),
        ("weight+labelSmoothing", lambda c: ({"weight": class_weight(c), "label_smoothing": 0.2}, None)),
        ("weight+ignoreIndex+labelSmoothing",
         lambda c: ({"weight": class_weight(c), "ignore_index": -100, "label_smoothing": 0.3}, -100)),
        ("weight+ignoreIndex 0+labelSmoothing",
         lambda c: ({"weight": class_weight(c), "ignore_index": 0, "label_smoothing": 0.05}, 0)),
        ("labelSmoothing 1", lambda c: ({"label_smoothing": 1.0}, None)),
    ]
    cases = index_cases(name, loss, logits, option_sets)
    cases += channels_last_index_cases(name, loss, logits, {"label_smoothing": 0.15})
    cases += edge_index_cases(name, loss, logits, smoothing=True)

    # Class-probability targets (same shape as the input), every shape, with weights and smoothing.
    probability_sets = [
        ("", {}),
        (" weight", {"weight": None}),
        (" labelSmoothing", {"label_smoothing": 0.1}),
        (" weight+labelSmoothing", {"weight": None, "label_smoothing": 0.25}),
    ]
    for shape in CLASS_SHAPES:
        classes = class_count(shape)
        class_dim = 0 if len(shape) == 1 else 1
        for label, template in probability_sets:
            options = {k: (class_weight(classes) if k == "weight" else v) for k, v in template.items()}
            x = logits(shape)
            t = probabilities(shape, class_dim)
            for reduction in REDUCTIONS:
                cases.append(case(f"{name} {shape_name(shape)} probability targets{label} {reduction}", loss,
                                  x, t, options, reduction, True))
    for shape in CLASS_SHAPES[2:]:
        options = {"weight": class_weight(3), "label_smoothing": 0.1}
        x = logits(shape)
        t = probabilities(shape, 1)
        for reduction in REDUCTIONS:
            cases.append(channels_last_case(f"{name} {shape_name(shape)} probability targets channels-last weight+labelSmoothing {reduction}",
                                            loss, x, t, options, reduction, True))
    # Soft targets that are not distributions (PyTorch does not require rows to sum to 1).
    x = logits([3, 4])
    t = uniform([3, 4], 0.0, 1.5)
    for reduction in ("mean", "none"):
        cases.append(case(f"{name} [3,4] probability targets not summing to 1 {reduction}", loss, x, t, {},
                          reduction, True))
    for shape in ([0, 3], [0, 3, 2]):
        for reduction in REDUCTIONS:
            options = {"weight": class_weight(3), "label_smoothing": 0.1}
            cases.append(case(f"{name} {shape_name(shape)} empty batch probability targets weight+labelSmoothing {reduction}",
                              loss, logits(shape), uniform(shape), options, reduction, True))
    for reduction in REDUCTIONS:
        cases.append(case(f"{name} [4,1] one class probability targets {reduction}", loss, logits([4, 1]),
                          uniform([4, 1]), {"label_smoothing": 0.1}, reduction, True))

    # Extreme logits: |z| up to 1e4, large spreads, and tiny logits.
    extreme = f32([[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, -1e4, -9999.0], [3e3, -2e3, 1e4, 1e4],
                   [80.0, -80.0, 88.7, -103.0], [1e-6, -1e-6, 0.0, 2e-6]])
    targets = torch.tensor([1, 3, 0, 2, 1])
    for label, options in [("", {}), (" weight+labelSmoothing", {"weight": f32([0.5, 2.0, 1.0, 1.25]), "label_smoothing": 0.1})]:
        for reduction in REDUCTIONS:
            cases.append(case(f"{name} [5,4] extreme logits{label} {reduction}", loss, extreme, targets,
                              options, reduction, False))
        t = probabilities([5, 4], 1)
        t[0] = f32([0.0, 1.0, 0.0, 0.0])
        for reduction in REDUCTIONS:
            cases.append(case(f"{name} [5,4] extreme logits probability targets{label} {reduction}", loss,
                              extreme, t, options, reduction, True))
    tiny = normal([4, 3], 1e-6)
    for reduction in ("mean", "none"):
        cases.append(case(f"{name} [4,3] tiny logits {reduction}", loss, tiny, torch.tensor([0, 2, 1, 2]), {},
                          reduction, False))
    wide = normal([3, 10], 3.0)
    for reduction in ("mean", "none"):
        options = {"weight": class_weight(10), "label_smoothing": 0.1}
        cases.append(case(f"{name} [3,10] ten classes weight+labelSmoothing {reduction}", loss, wide,
                          index_targets([3, 10]), options, reduction, False))
    return cases


def nll_fixtures():
    name = "nllLoss"
    loss = F.nll_loss
    make_input = lambda shape: log_probabilities(shape, 0 if len(shape) == 1 else 1)
    option_sets = [
        ("weight", lambda c: ({"weight": class_weight(c)}, None)),
        ("ignoreIndex hits", lambda c: ({}, -100)),
        ("ignoreIndex 1", lambda c: ({"ignore_index": 1}, 1)),
        ("weight+ignoreIndex", lambda c: ({"weight": class_weight(c), "ignore_index": -100}, -100)),
        ("weight+ignoreIndex 2", lambda c: ({"weight": class_weight(c), "ignore_index": 2}, 2)),
    ]
    cases = index_cases(name, loss, make_input, option_sets)
    cases += channels_last_index_cases(name, loss, make_input, {})
    cases += edge_index_cases(name, loss, make_input, smoothing=False)
    # NLL does not require log-probabilities: arbitrary values, large values and -Infinity.
    x = normal([4, 3], 50.0)
    for reduction in REDUCTIONS:
        cases.append(case(f"{name} [4,3] arbitrary inputs weight {reduction}", loss, x, index_targets([4, 3]),
                          {"weight": class_weight(3)}, reduction, False))
    x = f32([[-float("inf"), -1.0, -0.5], [-1e4, float("-inf"), 1e4], [-3e38, -0.25, -1e-6]])
    for reduction in REDUCTIONS:
        cases.append(case(f"{name} [3,3] -Infinity and extreme inputs {reduction}", loss, x, torch.tensor([1, 2, 0]),
                          {}, reduction, False))
    x = f32([[-float("inf"), -1.0, -0.5], [-2.0, -0.1, -3.0]])
    for reduction in REDUCTIONS:
        cases.append(case(f"{name} [2,3] -Infinity at the target {reduction}", loss, x, torch.tensor([0, 1]),
                          {}, reduction, False))
    return cases


# ----------------------------------------------------------------------------- BCE and BCE with logits

# For each input shape, the weight shapes that broadcast against it (PyTorch broadcasts weight to the target).
ELEMENTWISE_SHAPES = [
    ([6], [[6], [1]]),
    ([4, 3], [[4, 3], [3], [4, 1]]),
    ([2, 3, 2, 2], [[3, 1, 1], [2, 3, 2, 2]]),
]


def elementwise_targets(shape, soft):
    return uniform(shape) if soft else hard_labels(shape)


def bce_fixtures():
    name = "binaryCrossEntropy"
    loss = F.binary_cross_entropy
    probability = lambda shape: uniform(shape, 0.02, 0.98)
    cases = []
    for shape, weight_shapes in ELEMENTWISE_SHAPES:
        cases.append(case(f"{name} {shape_name(shape)} defaults", loss, probability(shape), hard_labels(shape), {},
                          None, True))
        for soft in (False, True):
            kind = "soft targets" if soft else "hard targets"
            for weight_shape in [None] + weight_shapes:
                options = {} if weight_shape is None else {"weight": uniform(weight_shape, 0.2, 2.0)}
                label = "" if weight_shape is None else f" weight {shape_name(weight_shape)}"
                x = probability(shape)
                y = elementwise_targets(shape, soft)
                for reduction in REDUCTIONS:
                    cases.append(case(f"{name} {shape_name(shape)} {kind}{label} {reduction}", loss, x, y, options,
                                      reduction, True))
    for reduction in REDUCTIONS:
        cases.append(case(f"{name} [] scalar {reduction}", loss, f32(0.3), f32(1.0), {}, reduction, True))
    # Where the -100 log clamp acts (0, 1 and a float32 denormal below e^-100), and near it.
    x = f32([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1e-45, 1e-44, 1e-6, 1e-6, 1.0 - 2.0 ** -24, 1.0 - 1e-6, 1e-30, 0.5])
    y = f32([0.0, 1.0, 1.0, 0.0, 0.3, 0.6, 1.0, 0.0, 1.0, 0.25, 0.0, 1.0, 0.5, 0.5])
    for label, options in [("", {}), (" weight", {"weight": uniform([14], 0.2, 2.0)})]:
        for reduction in REDUCTIONS:
            cases.append(case(f"{name} [14] probabilities at and near 0 and 1{label} {reduction}", loss, x, y,
                              options, reduction, True))
    for shape in ([0], [0, 3]):
        for reduction in REDUCTIONS:
            options = {"weight": uniform([3] if len(shape) == 2 else [1], 0.2, 2.0)}
            cases.append(case(f"{name} {shape_name(shape)} empty batch weight {reduction}", loss,
                              probability(shape), uniform(shape), options, reduction, True))
    for shape in ([4, 1], [1, 1], [1]):
        for reduction in REDUCTIONS:
            cases.append(case(f"{name} {shape_name(shape)} one column {reduction}", loss, probability(shape),
                              uniform(shape), {}, reduction, True))
    return cases


def bce_with_logits_fixtures():
    name = "binaryCrossEntropyWithLogits"
    loss = F.binary_cross_entropy_with_logits
    logits = lambda shape: normal(shape, 2.0)
    pos_weight_shapes = {1: [[6], [1]], 2: [[3]], 4: [[3, 1, 1]]}
    cases = []
    for shape, weight_shapes in ELEMENTWISE_SHAPES:
        cases.append(case(f"{name} {shape_name(shape)} defaults", loss, logits(shape), hard_labels(shape), {}, None,
                          True))
        option_sets = [("", {})]
        option_sets += [(f" weight {shape_name(s)}", {"weight": s}) for s in weight_shapes]
        option_sets += [(f" posWeight {shape_name(s)}", {"pos_weight": s}) for s in pos_weight_shapes[len(shape)]]
        option_sets.append((f" weight {shape_name(weight_shapes[-1])}+posWeight {shape_name(pos_weight_shapes[len(shape)][0])}",
                            {"weight": weight_shapes[-1], "pos_weight": pos_weight_shapes[len(shape)][0]}))
        for soft in (False, True):
            kind = "soft targets" if soft else "hard targets"
            for label, option_shapes in option_sets:
                options = {k: uniform(s, 0.2, 3.0) for k, s in option_shapes.items()}
                x = logits(shape)
                y = elementwise_targets(shape, soft)
                for reduction in REDUCTIONS:
                    cases.append(case(f"{name} {shape_name(shape)} {kind}{label} {reduction}", loss, x, y, options,
                                      reduction, True))
    for reduction in REDUCTIONS:
        cases.append(case(f"{name} [] scalar {reduction}", loss, f32(-1.5), f32(1.0), {}, reduction, True))
    # Extreme logits: |z| up to 1e4 with hard and soft targets, and tiny logits.
    x = f32([1e4, -1e4, 1e4, -1e4, 1e4, -1e4, 88.0, -88.0, 104.0, -104.0, 30.0, -30.0, 1e-6, -1e-6])
    y = f32([1.0, 0.0, 0.0, 1.0, 0.3, 0.7, 0.0, 1.0, 0.5, 0.5, 1.0, 0.0, 1.0, 0.0])
    for label, options in [("", {}), (" weight+posWeight", {"weight": uniform([14], 0.2, 2.0), "pos_weight": uniform([14], 0.2, 3.0)}),
                           (" posWeight [1]", {"pos_weight": f32([4.0])})]:
        for reduction in REDUCTIONS:
            cases.append(case(f"{name} [14] extreme logits{label} {reduction}", loss, x, y, options, reduction, True))
    x = normal([4, 3], 1e-6)
    for reduction in ("mean", "none"):
        options = {"pos_weight": uniform([3], 0.2, 3.0)}
        cases.append(case(f"{name} [4,3] tiny logits posWeight {reduction}", loss, x, uniform([4, 3]), options,
                          reduction, True))
    for shape in ([0], [0, 3]):
        for reduction in REDUCTIONS:
            options = {"weight": uniform([3] if len(shape) == 2 else [1], 0.2, 2.0),
                       "pos_weight": uniform([3] if len(shape) == 2 else [1], 0.2, 2.0)}
            cases.append(case(f"{name} {shape_name(shape)} empty batch weight+posWeight {reduction}", loss,
                              logits(shape), uniform(shape), options, reduction, True))
    for shape in ([4, 1], [1, 1], [1]):
        for reduction in REDUCTIONS:
            options = {"pos_weight": uniform([1], 0.2, 3.0)}
            cases.append(case(f"{name} {shape_name(shape)} one column posWeight [1] {reduction}", loss,
                              logits(shape), hard_labels(shape), options, reduction, True))
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


def sigmoid_focal_loss(input, target, alpha=0.25, gamma=2.0, reduction="none"):
    return TorchvisionSigmoidFocalLoss.apply(input, target, alpha, gamma, reduction)


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


def checked_softmax_focal_loss(input, target, **kwargs):
    """softmax_focal_loss, checked in value and gradient against the direct formula (and F.cross_entropy at γ = 0)."""
    references = [functools.partial(softmax_focal_loss, direct=True)]
    if kwargs.get("gamma", 2.0) == 0:
        references.append(lambda x, y, gamma, **rest: F.cross_entropy(x, y, **rest))
    for reference in references:
        a, b = [input.detach().clone().requires_grad_(True) for _ in range(2)]
        ya, yb = [target.detach().clone().requires_grad_(target.dtype.is_floating_point) for _ in range(2)]
        stable, other = softmax_focal_loss(a, ya, **kwargs), reference(b, yb, **{"gamma": 2.0, **kwargs})
        assert_close_where_finite("softmax focal value", other.detach(), stable.detach())
        if stable.numel() > 0 and bool(torch.isfinite(stable).all()):
            wrt = lambda inputs: [t for t in inputs if t.requires_grad]
            grads = torch.autograd.grad(stable.sum(), wrt([a, ya]), allow_unused=True)
            others = torch.autograd.grad(other.sum(), wrt([b, yb]), allow_unused=True)
            for g, h in zip(grads, others):
                if g is not None and h is not None:
                    assert_close_where_finite("softmax focal gradient", h, g)
    return softmax_focal_loss(input, target, **kwargs)


def sigmoid_focal_fixtures():
    name = "sigmoidFocalLoss"
    loss = sigmoid_focal_loss
    logits = lambda shape: normal(shape, 2.5)
    cases = []
    for shape in ([6], [4, 3], [2, 3, 2, 2]):
        cases.append(case(f"{name} {shape_name(shape)} defaults", loss, logits(shape), hard_labels(shape), {}, None,
                          True))
    # Every gamma with alpha on, off and high, hard and soft targets, every reduction.
    for gamma in GAMMAS:
        for alpha in (0.25, -1.0, 0.9):
            for soft in (False, True):
                shape = [4, 3] if soft else [2, 3, 2]
                options = {"alpha": alpha, "gamma": gamma}
                x = logits(shape)
                y = elementwise_targets(shape, soft)
                for reduction in REDUCTIONS:
                    cases.append(case(f"{name} {shape_name(shape)} {'soft' if soft else 'hard'} targets alpha {alpha} "
                                      f"gamma {gamma} {reduction}", loss, x, y, options, reduction, True))
    for alpha in (0.0, 1.0):
        cases.append(case(f"{name} [6] alpha {alpha} mean", loss, logits([6]), uniform([6]), {"alpha": alpha}, "mean",
                          True))
    # Extreme logits: |z| up to 1e4 with hard and soft targets (torchvision saturates; 0 < γ < 1 included).
    x = f32([1e4, -1e4, 1e4, -1e4, 1e4, -1e4, 88.0, -88.0, 104.0, -104.0, 30.0, -30.0, 20.0, -17.0, 1e-6, 0.0])
    y = f32([1.0, 0.0, 0.0, 1.0, 0.3, 0.7, 1.0, 0.0, 1.0, 0.5, 1.0, 0.0, 1.0, 0.0, 1.0, 0.25])
    for gamma in GAMMAS:
        for alpha in (0.25, -1.0):
            for reduction in REDUCTIONS:
                cases.append(case(f"{name} [16] extreme logits alpha {alpha} gamma {gamma} {reduction}", loss, x, y,
                                  {"alpha": alpha, "gamma": gamma}, reduction, True))
    for reduction in REDUCTIONS:
        cases.append(case(f"{name} [] scalar {reduction}", loss, f32(-1.5), f32(1.0), {}, reduction, True))
        for shape in ([0], [0, 3]):
            cases.append(case(f"{name} {shape_name(shape)} empty {reduction}", loss, logits(shape), uniform(shape), {},
                              reduction, True))
    return cases


def softmax_focal_fixtures():
    name = "softmaxFocalLoss"
    loss = checked_softmax_focal_loss
    logits = lambda shape: normal(shape, 2.0)
    option_sets = [(f"gamma {g}", lambda c, g=g: ({"gamma": g}, None)) for g in GAMMAS]
    option_sets += [
        ("weight", lambda c: ({"weight": class_weight(c)}, None)),
        ("ignoreIndex hits gamma 0.5", lambda c: ({"gamma": 0.5}, -100)),
        ("ignoreIndex 1", lambda c: ({"ignore_index": 1}, 1)),
        ("labelSmoothing gamma 1", lambda c: ({"label_smoothing": 0.1, "gamma": 1.0}, None)),
        ("weight+ignoreIndex+labelSmoothing gamma 5",
         lambda c: ({"weight": class_weight(c), "ignore_index": -100, "label_smoothing": 0.3, "gamma": 5.0}, -100)),
        ("weight+ignoreIndex 0+labelSmoothing gamma 0",
         lambda c: ({"weight": class_weight(c), "ignore_index": 0, "label_smoothing": 0.05, "gamma": 0.0}, 0)),
        ("weight+labelSmoothing gamma 0.5",
         lambda c: ({"weight": class_weight(c), "label_smoothing": 0.2, "gamma": 0.5}, None)),
    ]
    cases = index_cases(name, loss, logits, option_sets)
    cases += channels_last_index_cases(name, loss, logits, {"label_smoothing": 0.15, "gamma": 0.5})
    cases += edge_index_cases(name, loss, logits, smoothing=True)
    for shape in CLASS_SHAPES:
        classes = class_count(shape)
        class_dim = 0 if len(shape) == 1 else 1
        for gamma in GAMMAS:
            options = ({"gamma": gamma, "weight": class_weight(classes), "label_smoothing": 0.1} if gamma in (0.5, 2.0)
                       else {"gamma": gamma})
            label = "+weight+labelSmoothing" if "weight" in options else ""
            x = logits(shape)
            t = probabilities(shape, class_dim)
            for reduction in REDUCTIONS:
                cases.append(case(f"{name} {shape_name(shape)} probability targets gamma {gamma}{label} {reduction}",
                                  loss, x, t, options, reduction, True))
    for shape in CLASS_SHAPES[2:]:
        options = {"weight": class_weight(3), "label_smoothing": 0.1, "gamma": 1.0}
        for reduction in REDUCTIONS:
            cases.append(channels_last_case(f"{name} {shape_name(shape)} probability targets channels-last "
                                            f"weight+labelSmoothing gamma 1 {reduction}", loss, logits(shape),
                                            probabilities(shape, 1), options, reduction, True))
    # Extreme logits: |z| up to 1e4 (1 - p underflows to 0 for the confident rows), every gamma.
    extreme = f32([[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, -1e4, -9999.0], [3e3, -2e3, 1e4, 1e4],
                   [80.0, -80.0, 88.7, -103.0], [1e-6, -1e-6, 0.0, 2e-6], [40.0, 0.0, 0.0, 0.0]])
    targets = torch.tensor([1, 3, 0, 2, 1, 0])
    for gamma in GAMMAS:
        for label, options in [("", {"gamma": gamma}),
                               (" weight+labelSmoothing", {"gamma": gamma, "weight": f32([0.5, 2.0, 1.0, 1.25]),
                                                           "label_smoothing": 0.1})]:
            for reduction in REDUCTIONS:
                cases.append(case(f"{name} [6,4] extreme logits gamma {gamma}{label} {reduction}", loss, extreme,
                                  targets, options, reduction, False))
            t = probabilities([6, 4], 1)
            t[0] = f32([0.0, 1.0, 0.0, 0.0])
            cases.append(case(f"{name} [6,4] extreme logits probability targets gamma {gamma}{label} mean", loss,
                              extreme, t, options, "mean", True))
    wide = normal([3, 10], 3.0)
    for reduction in ("mean", "none"):
        options = {"weight": class_weight(10), "label_smoothing": 0.1, "gamma": 2.0}
        cases.append(case(f"{name} [3,10] ten classes weight+labelSmoothing {reduction}", loss, wide,
                          index_targets([3, 10]), options, reduction, False))
    return cases


# ----------------------------------------------------------------------------- KL divergence

def kl_divergence_fixtures():
    name = "klDivergence"
    loss = F.kl_div
    kl_reductions = ("mean", "batchmean", "sum", "none")
    cases = []
    for shape in ([5], [4, 3], [2, 3, 4], [2, 3, 2, 2]):
        class_dim = 0 if len(shape) == 1 else 1
        x = log_probabilities(shape, class_dim)
        t = probabilities(shape, class_dim)
        cases.append(case(f"{name} {shape_name(shape)} defaults", loss, x, t, {}, None, True))
        for log_target in (False, True):
            options = {"log_target": True} if log_target else {}
            x = log_probabilities(shape, class_dim)
            t = log_probabilities(shape, class_dim) if log_target else probabilities(shape, class_dim)
            for reduction in kl_reductions:
                cases.append(case(f"{name} {shape_name(shape)}{' logTarget' if log_target else ''} {reduction}", loss,
                                  x, t, options, reduction, True))
    # Targets of exactly 0 (adding 0; their gradient is NaN, 0/0 in PyTorch's xlogy), arbitrary inputs.
    x = normal([3, 4], 3.0)
    t = f32([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    for reduction in kl_reductions:
        cases.append(case(f"{name} [3,4] zero targets, arbitrary inputs {reduction}", loss, x, t, {}, reduction, True))
    x = f32([[-1e4, -0.5, -30.0], [-88.0, -1e-6, -20.0]])
    for log_target in (False, True):
        t = f32([[-1e4, -1.0, -104.0], [-3.0, -1e-7, -0.5]]) if log_target else f32([[1e-30, 0.3, 0.7], [1e-6, 1.0, 0.5]])
        options = {"log_target": True} if log_target else {}
        for reduction in kl_reductions:
            cases.append(case(f"{name} [2,3] extreme values{' logTarget' if log_target else ''} {reduction}", loss,
                              x, t, options, reduction, True))
    for reduction in kl_reductions:
        cases.append(case(f"{name} [] scalar {reduction}", loss, f32(-1.5), f32(0.4), {}, reduction, True))
        cases.append(case(f"{name} [0,3] empty {reduction}", loss, normal([0, 3]), uniform([0, 3]), {}, reduction,
                          True))
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
    for loss_name, build in FIXTURES.items():
        path = OUT_DIR / f"{loss_name}.json"
        # Each case names the library's loss: most are recorded through wrappers of the script's own.
        document = record_fixture.record_many(path, [{**c, "call": loss_name} for c in build()])
        print(f"{path.relative_to(ROOT)}: {len(document['cases'])} cases, {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
