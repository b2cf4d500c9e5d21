"""Benchmarks of the helpers, run as ``python -m helpers.bench SUBCOMMAND``.

Introduced in the chapter on greedy covering, which reports how far the covering engine
is from the plain reference and from the machine's matrix-multiply peak.

Subcommands
-----------
``covering``
    Times :func:`helpers.measure.covering.capacity_curve` (40 log-spaced radii) against
    :func:`helpers.measure.covering.greedy_net_reference` on the same data in the same run and
    checks that the centres agree. ``python -m helpers.bench covering --n 10000 --d 128``.
``matmul``
    Measures the float32 and float64 matrix-multiply throughput (GFLOP/s) of numpy's BLAS
    (and torch's, when installed), the ceiling for the engine's products.
``training``
    Training throughput (images per second) of the suite's image models on random inputs of
    the proposal's sizes: the old setting (float32, one thread, batch 64) against the
    ``full`` profile's recipe (bfloat16 autocast with channels-last, the profile's batch
    size, every core, augmentation included). ``python -m helpers.bench training``.

``covering`` prints one JSON object with ``--json``, else a summary; the others always print
JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np

from helpers._validation import check_count
from helpers.measure import covering


def representation_like(
    n: int,
    d: int,
    *,
    n_clusters: int = 10,
    intrinsic_dim: int = 8,
    noise: float = 0.01,
    seed: int = 0,
) -> np.ndarray:
    """A stand-in for a learned representation, normalized to the unit cube.

    A mixture of ``n_clusters`` clusters; each lies near a random ``intrinsic_dim``-dimensional
    affine subspace of R^d, bent by a smooth nonlinearity (``z + tanh(z A) / 2``) and
    blurred by isotropic noise of size ``noise``. The result is mapped to ``[0, 1]^d``
    with one global min and max, as the book normalizes representations.
    """
    if n < 1 or d < 1:
        raise ValueError(f"n and d must be positive, got n={n}, d={d}.")
    rng = np.random.default_rng(seed)
    labels = rng.integers(n_clusters, size=n)
    out = np.empty((n, d))
    k = min(intrinsic_dim, d)
    for cluster in range(n_clusters):
        rows = np.flatnonzero(labels == cluster)
        basis, _ = np.linalg.qr(rng.standard_normal((d, k)))
        centre = 0.5 * rng.standard_normal(d)
        scale = rng.uniform(0.5, 1.5, k)
        latent = rng.standard_normal((rows.size, k)) * scale
        mix = rng.standard_normal((k, k)) / math.sqrt(k)
        warped = latent + 0.5 * np.tanh(latent @ mix)
        out[rows] = centre + warped @ basis.T
    out += noise * rng.standard_normal(out.shape)
    low, high = out.min(), out.max()
    return (out - low) / (high - low)


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover
        return None


def _estimated_reference_seconds(n: int, d: int, net: int) -> float:
    """Rough cost of the reference loop: per-point overhead, comparisons, centre copies."""
    return 3e-6 * n + 1.5e-9 * n * net * d / 2 + 2.5e-10 * net * net * d


def _pick_reference_eps(grid, sizes, n, d, count, budget) -> list[int]:
    eligible = [
        k for k in range(len(grid)) if _estimated_reference_seconds(n, d, sizes[k]) <= budget
    ]
    if not eligible or count <= 0:
        return []
    if count >= len(eligible):
        return eligible
    spots = np.linspace(0, len(eligible) - 1, count)
    return sorted({eligible[int(round(spot))] for spot in spots})


def bench_covering(args) -> dict:
    began_all = time.perf_counter()
    load_start = _load()
    points = representation_like(args.n, args.d, seed=args.seed)
    if args.float32:
        points = points.astype(np.float32)
    # Fast engine: one neighbour pass (also used to choose the radii), then the curve.
    began = time.perf_counter()
    scales = covering.neighbour_scales(
        points, device=args.device, precision=args.precision, block_size=args.block_size
    )
    seconds_scales = time.perf_counter() - began
    grid = covering.radius_grid(points, scales.nearest, args.eps_count)
    began = time.perf_counter()
    curve = covering.capacity_curve(
        points,
        grid,
        device=args.device,
        precision=args.precision,
        block_size=args.block_size,
        scales=scales,
    )
    seconds_curve = time.perf_counter() - began
    seconds_fast = seconds_scales + seconds_curve
    peak_after_fast = _peak_rss_mb()  # data + engine, before any reference run
    gemm_flop = curve.stats.get("gemm_flop", 0) + scales.stats.get("gemm_flop", 0)
    score_seconds = curve.stats.get("score_seconds", 0.0) + scales.stats.get("score_seconds", 0.0)
    # Reference on a spread of affordable radii; compare the centre indices.
    picks = []
    if not args.skip_reference:
        picks = _pick_reference_eps(
            curve.eps, curve.net_size, args.n, args.d, args.reference_count, args.reference_budget
        )
    reference_times, identical_sizes, identical_indices = [], True, True
    details = []
    for k in picks:
        eps = float(curve.eps[k])
        began = time.perf_counter()
        reference = covering.greedy_net_reference(points, eps)
        spent = time.perf_counter() - began
        fast = covering.greedy_net(
            points,
            eps,
            scales=scales,
            device=args.device,
            precision=args.precision,
            block_size=args.block_size,
        )
        reference_times.append(spent)
        identical_sizes &= len(reference) == int(curve.net_size[k]) == len(fast)
        identical_indices &= bool(np.array_equal(reference, fast))
        details.append({"eps": eps, "net_size": len(reference), "seconds": round(spent, 3)})
    per_eps = float(np.mean(reference_times)) if reference_times else None
    result = {
        "benchmark": "covering",
        "n": args.n,
        "d": args.d,
        "seed": args.seed,
        "input_dtype": "float32" if args.float32 else "float64",
        "device": args.device or "numpy",
        "precision": scales.precision,
        "eps_count": int(len(curve.eps)),
        "eps_min": float(curve.eps[0]),
        "eps_max": float(curve.eps[-1]),
        "net_size_min": int(curve.net_size.min()),
        "net_size_max": int(curve.net_size.max()),
        "seconds_fast": round(seconds_fast, 3),
        "seconds_neighbour_pass": round(seconds_scales, 3),
        "seconds_curve": round(seconds_curve, 3),
        "seconds_reference_per_eps": None if per_eps is None else round(per_eps, 3),
        "reference_runs": details,
        "speedup": None if per_eps is None else round(per_eps * len(curve.eps) / seconds_fast, 1),
        "identical": (identical_sizes and identical_indices) if picks else None,
        "identical_net_sizes": identical_sizes if picks else None,
        "identical_indices": identical_indices if picks else None,
        "gemm_gflop": round(gemm_flop / 1e9, 1),
        "gemm_gflops_per_s": round(gemm_flop / 1e9 / seconds_fast, 1),
        "gemm_gflops_per_s_in_products": (
            round(gemm_flop / 1e9 / score_seconds, 1)
            if args.device in (None, "cpu") and score_seconds > 0
            else None
        ),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "peak_rss_mb_after_fast": round(peak_after_fast, 1),
        "load_average_start": load_start,
        "load_average_end": _load(),
        "cpu_count": os.cpu_count(),
        "seconds_total": round(time.perf_counter() - began_all, 3),
    }
    return result


def timed(function, *args, repeats: int = 1, **kwargs):
    """Call ``function(*args, **kwargs)`` ``repeats`` times; return its result and best time.

    The fastest run is the one least disturbed by other work on the machine, so it is the
    fairest figure for a rate. Its result is the one returned, so that timings the function
    reports about itself (such as :attr:`helpers.measure.covering.CapacityCurve.stats`)
    belong to the same run. Introduced in the chapter "Greedy covering"
    (``notebooks/03_greedy_covering``), which times the covering engine with it.

    Returns
    -------
    (object, float)
        The result of the fastest call and its wall time in seconds.
    """
    check_count(repeats, name="repeats")
    best, result = math.inf, None
    for _ in range(repeats):
        began = time.perf_counter()
        value = function(*args, **kwargs)
        seconds = time.perf_counter() - began
        if seconds < best:
            best, result = seconds, value
    return result, best


def _time_matmul(multiply, a, b, repeats: int) -> float:
    """Fastest of ``repeats`` timed runs after a warm-up (a peak, not an average)."""
    multiply(a, b)
    best = math.inf
    for _ in range(repeats):
        began = time.perf_counter()
        multiply(a, b)
        best = min(best, time.perf_counter() - began)
    return best


def bench_matmul(args) -> dict:
    size = args.size
    rng = np.random.default_rng(args.seed)
    result: dict = {
        "benchmark": "matmul",
        "size": size,
        "tile_depth": args.tile_depth,
        "cpu_count": os.cpu_count(),
        "load_average_start": _load(),
    }
    shapes = {
        "square": (size, size, size),
        "engine_tile": (covering.DEFAULT_BLOCK_SIZE, covering.DEFAULT_CENTRE_CHUNK,
                        args.tile_depth),
    }
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        for label, (m, c, k) in shapes.items():
            a = rng.standard_normal((m, k)).astype(dtype)
            b = rng.standard_normal((c, k)).astype(dtype)
            seconds = _time_matmul(lambda x, y: x @ y.T, a, b, args.repeats)
            result[f"numpy_{name}_{label}_gflops"] = round(2 * m * c * k / seconds / 1e9, 1)
    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None
    if torch is not None:
        result["torch_threads"] = torch.get_num_threads()
        for dtype in (torch.float32, torch.float64):
            name = str(dtype).replace("torch.", "")
            a = torch.randn(size, size, dtype=dtype)
            seconds = _time_matmul(lambda x, y: x @ y, a, a, args.repeats)
            result[f"torch_cpu_{name}_square_gflops"] = round(2 * size**3 / seconds / 1e9, 1)
    result["load_average_end"] = _load()
    return result


def _summary_covering(r: dict) -> str:
    lines = [
        f"covering: n={r['n']} d={r['d']} ({r['input_dtype']}, {r['device']}, "
        f"{r['precision']} products), {r['eps_count']} radii "
        f"{r['eps_min']:.4g}..{r['eps_max']:.4g}, nets {r['net_size_min']}..{r['net_size_max']}",
        f"  fast curve: {r['seconds_fast']:.2f} s (neighbour pass {r['seconds_neighbour_pass']:.2f}"
        f" s + nets {r['seconds_curve']:.2f} s), {r['gemm_gflop']} GFLOP in products, "
        f"{r['gemm_gflops_per_s']} GFLOP/s overall",
    ]
    if r["seconds_reference_per_eps"] is None:
        lines.append("  reference: skipped")
    else:
        runs = ", ".join(
            f"eps={x['eps']:.4g} (|net|={x['net_size']}, {x['seconds']} s)"
            for x in r["reference_runs"]
        )
        lines.append(f"  reference: {r['seconds_reference_per_eps']:.2f} s per eps over {runs}")
        lines.append(f"  speedup: {r['speedup']}x   identical centres: {r['identical']}")
    lines.append(
        f"  peak RSS: {r['peak_rss_mb']:.0f} MB, load average {r['load_average_start']}"
        f" -> {r['load_average_end']} on {r['cpu_count']} CPUs"
    )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    cover = commands.add_parser("covering", help="fast capacity curve vs the reference")
    cover.add_argument("--n", type=int, default=10_000, help="number of points")
    cover.add_argument("--d", type=int, default=128, help="ambient dimension")
    cover.add_argument("--seed", type=int, default=0)
    cover.add_argument("--json", action="store_true", help="print one JSON object")
    cover.add_argument("--eps-count", type=int, default=40, help="radii on the curve")
    cover.add_argument(
        "--skip-reference", action="store_true", help="do not run the reference (for very large n)"
    )
    cover.add_argument(
        "--reference-count",
        type=int,
        default=3,
        help="radii on which the reference runs, spread across the range",
    )
    cover.add_argument(
        "--reference-budget",
        type=float,
        default=60.0,
        help="only radii whose estimated reference time is below this (s)",
    )
    cover.add_argument("--device", default=None, help="torch device (default: numpy engine)")
    cover.add_argument("--precision", default="auto", choices=covering.PRECISIONS)
    cover.add_argument("--block-size", type=int, default=covering.DEFAULT_BLOCK_SIZE)
    cover.add_argument("--float32", action="store_true", help="float32 input points")
    mm = commands.add_parser("matmul", help="matrix-multiply peak of this machine (JSON)")
    mm.add_argument("--size", type=int, default=4096)
    mm.add_argument("--repeats", type=int, default=5)
    mm.add_argument("--tile-depth", type=int, default=130,
                    help="terms per output of the engine-tile product: d + 2 for d dimensions")
    mm.add_argument("--seed", type=int, default=0)
    mm.add_argument("--json", action="store_true", help="accepted; output is always JSON")
    tr = commands.add_parser("training", help="training images per second, before and after")
    tr.add_argument("--models", nargs="+", default=["cnn-mnist", "cnn-cifar", "resnet8"])
    tr.add_argument("--seconds", type=float, default=8.0, help="timed seconds per setting")
    tr.add_argument("--json", action="store_true", help="accepted; output is always JSON")
    return parser


def _time_training(model_name: str, *, precision: str, batch_size: int, threads: int,
                   augment: str | None, seconds: float, spectral_norm: bool = False) -> float:
    """Images per second of training steps of a suite image model on random inputs."""
    import torch

    from helpers._threads import torch_threads
    from helpers.nets.models import build_model
    from helpers.nets.train import _flip_crop

    size, channels = (28, 1) if model_name == "cnn-mnist" else (32, 3)
    with torch_threads(threads):
        torch.manual_seed(0)
        model = build_model(model_name, in_channels=channels, image_size=size,
                            spectral_norm=spectral_norm)
        fast = precision == "bfloat16"
        if fast:
            model = model.to(memory_format=torch.channels_last)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        images = torch.rand(batch_size, channels, size, size)
        labels = torch.randint(0, 10, (batch_size,))
        generator = torch.Generator().manual_seed(0)

        def step():
            batch = _flip_crop(images, generator) if augment else images
            if fast:
                batch = batch.contiguous(memory_format=torch.channels_last)
            optimizer.zero_grad(set_to_none=True)
            if fast:
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    logits = model(batch)
            else:
                logits = model(batch)
            torch.nn.functional.cross_entropy(logits.float(), labels).backward()
            optimizer.step()

        for _ in range(2):
            step()
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            step()
            done += batch_size
        return done / (time.perf_counter() - started)


def bench_training(args) -> dict:
    from helpers.nets.suite import PROFILES

    specs = {spec.model: spec for spec in PROFILES["full"].specs}
    rows = []
    for name in args.models:
        spec = specs[name]
        before = _time_training(name, precision="float32", batch_size=64, threads=1,
                                augment=None, seconds=args.seconds)
        after = _time_training(name, precision=spec.precision, batch_size=spec.batch_size,
                               threads=os.cpu_count() or 1, augment=spec.augment,
                               seconds=args.seconds)
        rows.append({"model": name, "before_images_per_second": round(before, 1),
                     "after_images_per_second": round(after, 1),
                     "speed_up": round(after / before, 2),
                     "after": {"precision": spec.precision, "batch_size": spec.batch_size,
                               "threads": os.cpu_count() or 1, "augment": spec.augment}})
    return {"benchmark": "training", "cpu_count": os.cpu_count(), "models": rows}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "covering":
        if args.n < 2 or args.d < 1 or args.eps_count < 1:
            raise SystemExit("need --n >= 2, --d >= 1 and --eps-count >= 1")
        result = bench_covering(args)
        print(json.dumps(result) if args.json else _summary_covering(result))
    elif args.command == "training":
        print(json.dumps(bench_training(args)))
    else:
        print(json.dumps(bench_matmul(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
