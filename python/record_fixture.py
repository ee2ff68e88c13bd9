"""Records PyTorch loss calls as JSON fixtures that tfjs-loss-adapter checks TensorFlow.js code against.

Plain Python and torch, nothing to install: copy this file next to your script, or import it from the
installed npm package (`npx tfjs-loss-adapter fixture-script` prints its path).

    import torch
    import torch.nn.functional as F
    from record_fixture import record

    logits = torch.randn(4, 3, requires_grad=True)
    target = torch.tensor([0, 2, 1, 2])
    record("fixtures/ce.json", F.cross_entropy, logits, target, label_smoothing=0.1)

Then, in the JavaScript project, `npx tfjs-loss-adapter verify --fixtures fixtures/ce.json` checks the
library's `crossEntropy` against it, and `--loss ./my-loss.js` (or the Jest matcher
`toMatchTorchFixture`) checks a loss of your own.

A fixture stores the call's name (`F.cross_entropy` -> `crossEntropy`), every positional input with its
dtype and shape, the keyword options under the library's names (`label_smoothing` -> `labelSmoothing`),
the value, and the gradient with respect to every floating input that requires grad (`requires_grad`).
A non-scalar value is differentiated with a seeded random upstream gradient, stored with it. The call is
evaluated on float64 copies of the floating inputs, so the stored value and gradients are PyTorch's
answer, to float64 precision, for exactly the numbers stored. NaN and infinities are written as the
strings "NaN", "Infinity" and "-Infinity". The format is specified in docs/fixture-format.md.
"""

import inspect
import json
import math
import pathlib
import struct

import torch

FORMAT = "tfjs-loss-adapter/torch-fixture"
VERSION = 1

# torch.nn.functional (and torchvision.ops) names -> tfjs-loss-adapter's. Other names stay as recorded.
FUNCTION_NAMES = {
    "cross_entropy": "crossEntropy",
    "binary_cross_entropy_with_logits": "binaryCrossEntropyWithLogits",
    "binary_cross_entropy": "binaryCrossEntropy",
    "nll_loss": "nllLoss",
    "kl_div": "klDivergence",
    "sigmoid_focal_loss": "sigmoidFocalLoss",
}

# Keyword options under their PyTorch names -> tfjs-loss-adapter's. Other names stay as recorded.
OPTION_NAMES = {
    "label_smoothing": "labelSmoothing",
    "pos_weight": "posWeight",
    "ignore_index": "ignoreIndex",
    "log_target": "logTarget",
    "reduction": "reduction",
    "weight": "weight",
    "alpha": "alpha",
    "gamma": "gamma",
}

PRECISIONS = ("float64", "as-given")


def record(path, fn, *args, **kwargs):
    """Calls `fn(*args, **kwargs)` and writes the call, its value and gradients to `path` as a fixture.

    The gradients are taken with respect to every floating tensor argument with `requires_grad` set.
    Returns the fixture written (a dict).
    """
    return record_many(path, [{"fn": fn, "args": args, "kwargs": kwargs}])


def record_many(path, cases):
    """Writes several calls to one fixture file. Each case is a dict:

        {"fn": F.cross_entropy, "args": (logits, target), "kwargs": {"weight": w},   # fn required
         "name": "weighted",          # default: the call's name and the case's index
         "call": "crossEntropy",      # default: fn's name, mapped as FUNCTION_NAMES says
         "precision": "float64",      # or "as-given": evaluate in the inputs' own dtypes
         "seed": 0}                   # seeds the upstream gradient; default: the case's index

    or a tuple `(fn, args)` or `(fn, args, kwargs)`. Returns the fixture written (a dict).
    """
    if not isinstance(cases, (list, tuple)) or len(cases) == 0:
        raise TypeError(f"record_many: 'cases' must be a non-empty list of cases, got {cases!r}")
    document = {
        "format": FORMAT,
        "version": VERSION,
        "torch": torch.__version__,
        "cases": [_record_case(_case_spec(case, index), index) for index, case in enumerate(cases)],
    }
    names = [case["name"] for case in document["cases"]]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"record_many: case names must be distinct, got {repeated} more than once")
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, allow_nan=False, separators=(",", ":")) + "\n")
    return document


def _case_spec(case, index):
    """A case as a dict with every key, whichever form it was given in."""
    if isinstance(case, (list, tuple)) and len(case) in (2, 3):
        case = {"fn": case[0], "args": case[1], "kwargs": case[2] if len(case) == 3 else {}}
    if not isinstance(case, dict) or not callable(case.get("fn")):
        raise TypeError(f"cases[{index}] must be a dict with a callable 'fn', or a tuple (fn, args[, kwargs]), got {case!r}")
    unknown = set(case) - {"fn", "args", "kwargs", "name", "call", "precision", "seed"}
    if unknown:
        raise TypeError(f"cases[{index}] has unknown keys {sorted(unknown)}")
    precision = case.get("precision", "float64")
    if precision not in PRECISIONS:
        raise ValueError(f"cases[{index}]['precision'] must be one of {PRECISIONS}, got {precision!r}")
    return {
        "fn": case["fn"],
        "args": tuple(case.get("args", ())),
        "kwargs": dict(case.get("kwargs", {})),
        "name": case.get("name"),
        "call": case.get("call", _library_name(case["fn"])),
        "precision": precision,
        "seed": case.get("seed", index),
    }


def _library_name(fn):
    """`cross_entropy` of torch.nn.functional -> `crossEntropy`; a function of your own keeps its name."""
    name = getattr(fn, "__name__", type(fn).__name__)
    from_torch = getattr(fn, "__module__", "").split(".")[0] in ("torch", "torchvision")
    return FUNCTION_NAMES.get(name, name) if from_torch else name


def _qualified_name(fn):
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', getattr(fn, '__name__', repr(fn)))}"


def _input_names(fn, count):
    """The names of fn's first `count` positional parameters (arg0, arg1, ... where it has none)."""
    try:
        parameters = [p.name for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        parameters = []
    return [parameters[k] if k < len(parameters) else f"arg{k}" for k in range(count)]


def _evaluated(t, precision):
    """A fresh leaf for the call: float64 (or as given) for floating tensors, with the same requires_grad."""
    leaf = t.detach()
    if leaf.is_floating_point() and precision == "float64":
        leaf = leaf.double()
    return leaf.clone().requires_grad_(t.requires_grad and t.is_floating_point())


def _record_case(spec, index):
    fn, precision = spec["fn"], spec["precision"]
    where = f"cases[{index}]" if spec["name"] is None else f"case '{spec['name']}'"
    for k, arg in enumerate(spec["args"]):
        if not isinstance(arg, torch.Tensor):
            raise TypeError(f"{where}: positional argument {k} must be a torch.Tensor, got {type(arg).__name__}; "
                            "pass numbers and strings as keyword options")
    names = _input_names(fn, len(spec["args"]))
    options = {OPTION_NAMES.get(key, key): value for key, value in spec["kwargs"].items() if value is not None}
    if len(options) != len([v for v in spec["kwargs"].values() if v is not None]):
        raise ValueError(f"{where}: two keyword options map to one name: {sorted(spec['kwargs'])}")
    args = [_evaluated(arg, precision) for arg in spec["args"]]
    kwargs = {key: _evaluated(value, precision) if isinstance(value, torch.Tensor) else value
              for key, value in spec["kwargs"].items() if value is not None}
    value = fn(*args, **kwargs)
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        raise TypeError(f"{where}: {_qualified_name(fn)} must return a floating torch.Tensor, got {value!r}")

    # Gradients with respect to the inputs, then the keyword options, that require grad.
    wrt = [(name, leaf) for name, leaf in zip(names, args) if leaf.requires_grad]
    wrt += [(OPTION_NAMES.get(key, key), leaf) for key, leaf in kwargs.items()
            if isinstance(leaf, torch.Tensor) and leaf.requires_grad]
    upstream = None
    if value.dim() > 0:
        generator = torch.Generator().manual_seed(spec["seed"])
        upstream = torch.randn(value.shape, generator=generator, dtype=torch.float64).float()
    gradients = {}
    if wrt:
        grad_outputs = None if upstream is None else upstream.to(value.dtype)
        found = torch.autograd.grad(value, [leaf for _, leaf in wrt], grad_outputs=grad_outputs, allow_unused=True)
        gradients = {name: _encode_tensor(torch.zeros_like(leaf) if g is None else g)
                     for (name, leaf), g in zip(wrt, found)}
    return {
        "name": spec["name"] if spec["name"] is not None else f"{spec['call']} {index}",
        "call": spec["call"],
        "torchCall": _qualified_name(fn),
        "precision": precision,
        "inputs": [{"name": name, **_encode_tensor(arg)} for name, arg in zip(names, spec["args"])],
        "options": {key: _encode_tensor(v) if isinstance(v, torch.Tensor) else _encode_option(v)
                    for key, v in options.items()},
        "value": _encode_tensor(value.detach()),
        "upstream": None if upstream is None else _encode_tensor(upstream),
        "gradients": gradients,
    }


def _shortest_float32(x):
    """The shortest decimal that reads back as the same float32 (what Math.fround gives in JS)."""
    single = struct.unpack("f", struct.pack("f", x))[0]
    for digits in range(1, 10):
        text = f"{single:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            return float(text)
    return single


def _encode_number(x, single):
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return _shortest_float32(x) if single else x


def _encode_option(v):
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return v if isinstance(v, int) else _encode_number(v, False)
    if isinstance(v, (list, tuple)):
        return [_encode_option(item) for item in v]
    raise TypeError(f"keyword option {v!r}: expected a tensor, number, string, bool or list of them")


def _encode_tensor(t):
    """{"dtype", "shape", "values"} with the values flat in row-major order."""
    dtype = str(t.dtype).replace("torch.", "")
    values = t.detach().reshape(-1).tolist()
    if t.dtype == torch.bool:
        encoded = [bool(v) for v in values]
    elif t.is_floating_point():
        single = t.dtype in (torch.float32, torch.float16, torch.bfloat16)
        encoded = [_encode_number(v, single) for v in values]
    else:
        encoded = [int(v) for v in values]
    return {"dtype": dtype, "shape": list(t.shape), "values": encoded}
