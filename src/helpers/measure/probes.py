"""Linear probes on frozen representations, with bootstrap confidence intervals.

Introduced in the chapter "Models and training" and used by every chapter that asks how
much *label* information survives quantization. A probe is a multinomial logistic
regression (scikit-learn, L2 penalty, lbfgs) fitted on standardized training
representations and scored on the test split. Its uncertainty is a percentile bootstrap over
the test set: resampling n test points with replacement and counting the correct ones gives
a Binomial(n, accuracy) count, so the bootstrap is drawn from that distribution directly
(exactly the same distribution as resampling indices, at O(B) cost). It covers the
test-sampling error only, not the variation between training runs or probe fits.

:func:`probe_curve` sweeps precisions: for each bit depth a quantizer maps the training and
test representations to the grid, and a probe is fitted on the result.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from helpers._validation import (
    check_bits_list,
    check_bootstrap,
    check_confidence,
    check_count,
    check_points,
    check_real,
    is_number,
)

#: Default number of bootstrap resamples.
N_BOOTSTRAP = 1000


@dataclass(frozen=True)
class ProbeResult:
    """Accuracy of one linear probe and its bootstrap interval.

    Attributes
    ----------
    accuracy : float
        Test accuracy.
    ci_low, ci_high : float
        Percentile bootstrap interval over the test set at level ``confidence``.
    train_accuracy : float
        Accuracy on the training representations (a gap to ``accuracy`` shows overfitting).
    bits : float or None
        Bit depth of the quantized representations (``None`` = full precision); set by
        :func:`probe_curve`.
    converged : bool
        False when lbfgs stopped at ``max_iter`` (the accuracy is then still usable, but
        raise ``max_iter`` if it matters).
    """

    accuracy: float
    ci_low: float
    ci_high: float
    train_accuracy: float
    n_train: int
    n_test: int
    n_features: int
    n_classes: int
    confidence: float
    n_bootstrap: int
    C: float
    converged: bool
    n_iter: int
    seconds: float
    bits: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ProbeCurve:
    """Probe accuracy against bit depth (from :func:`probe_curve`)."""

    bits: list
    results: list = field(repr=False)
    seconds: float = 0.0

    @property
    def accuracy(self) -> np.ndarray:
        return np.array([r.accuracy for r in self.results])

    @property
    def ci_low(self) -> np.ndarray:
        return np.array([r.ci_low for r in self.results])

    @property
    def ci_high(self) -> np.ndarray:
        return np.array([r.ci_high for r in self.results])

    def full_precision(self) -> ProbeResult | None:
        """The result for ``bits=None``, if it was in the sweep."""
        for bits, result in zip(self.bits, self.results, strict=True):
            if bits is None:
                return result
        return None

    def as_rows(self) -> list[dict]:
        """One dict per bit depth (for a table or a results file)."""
        return [r.as_dict() for r in self.results]

    def to_frame(self):
        """The rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.as_rows())


# --------------------------------------------------------------------------- checks


def _check_labels(labels, n_rows: int, *, name: str, z_name: str) -> np.ndarray:
    if hasattr(labels, "detach"):
        labels = labels.detach().cpu().numpy()
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per row of {z_name}), got shape "
                         f"{array.shape}.")
    if len(array) != n_rows:
        raise ValueError(f"{name} has {len(array)} labels but {z_name} has {n_rows} rows; they "
                         "must match one to one.")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError(f"{name} must hold integer class labels (found non-integers or NaN).")
        array = array.astype(np.int64)
    elif array.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integer class labels, got dtype {array.dtype}.")
    return array.astype(np.int64)


def _check_settings(C, confidence, n_bootstrap) -> None:
    """The settings that :func:`probe_accuracy` and :func:`probe_curve` share."""
    check_real(C, name="C", low=0.0, include_low=False)
    check_confidence(confidence)
    check_bootstrap(n_bootstrap)


def _check_inputs(train_Z, train_y, test_Z, test_y):
    train_Z = check_points(train_Z, name="train_Z")
    test_Z = check_points(test_Z, name="test_Z")
    if train_Z.shape[1] != test_Z.shape[1]:
        raise ValueError(f"train_Z has {train_Z.shape[1]} features but test_Z has "
                         f"{test_Z.shape[1]}; probe the same representation on both splits.")
    train_y = _check_labels(train_y, len(train_Z), name="train_y", z_name="train_Z")
    test_y = _check_labels(test_y, len(test_Z), name="test_y", z_name="test_Z")
    classes = np.unique(train_y)
    if len(classes) < 2:
        raise ValueError(f"train_y holds a single class ({classes.tolist()}); a probe needs at "
                         "least two classes to separate.")
    unseen = np.setdiff1d(np.unique(test_y), classes)
    if unseen.size:
        warnings.warn(f"test_y has classes absent from train_y ({unseen.tolist()}); those test "
                      "points can only be misclassified.", stacklevel=3)
    return train_Z, train_y, test_Z, test_y


# --------------------------------------------------------------------------- probes


def bootstrap_interval(n_correct: int, n: int, *, n_bootstrap: int = N_BOOTSTRAP, seed: int = 0,
                       confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of an accuracy ``n_correct / n`` over the n test points.

    Resampling the n points with replacement gives ``Binomial(n, n_correct / n)`` correct
    ones, so the resamples are drawn from it directly. With ``n_bootstrap = 0`` the interval
    is the point itself.
    """
    accuracy = n_correct / n
    if n_bootstrap == 0:
        return accuracy, accuracy
    rng = np.random.default_rng(seed)
    resampled = rng.binomial(n, accuracy, size=n_bootstrap) / n
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return float(low), float(high)


def _fit_probe(train_Z, train_y, test_Z, test_y, *, C, max_iter, tol, standardize,
               estimator=None):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if standardize:
        scaler = StandardScaler().fit(train_Z)
        train_Z, test_Z = scaler.transform(train_Z), scaler.transform(test_Z)
    if estimator is None:
        estimator = LogisticRegression(C=C, max_iter=max_iter, tol=tol)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        estimator.fit(train_Z, train_y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    for w in caught:  # pass on anything that is not the expected convergence note
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    test_pred = estimator.predict(test_Z)
    train_accuracy = float(np.mean(estimator.predict(train_Z) == train_y))
    n_iter = int(np.max(estimator.n_iter_))
    return test_pred, train_accuracy, converged, n_iter, estimator


def probe_accuracy(train_Z, train_y, test_Z, test_y, *, n_bootstrap: int = N_BOOTSTRAP,
                   seed: int = 0, C: float = 1.0, confidence: float = 0.95,
                   max_iter: int = 200, tol: float = 1e-4,
                   standardize: bool = True) -> ProbeResult:
    """Fit a multinomial logistic-regression probe on ``train_Z`` and score it on ``test_Z``.

    Parameters
    ----------
    train_Z, test_Z : array_like, shape (n, d)
        Frozen representations (the same d on both).
    train_y, test_y : array_like of int, shape (n,)
        Class labels.
    n_bootstrap : int
        Bootstrap resamples of the test set for the interval (0 = none).
    seed : int
        Seed of the bootstrap.
    C : float
        Inverse L2 regularization strength (scikit-learn's convention).
    confidence : float
        Level of the percentile interval.
    max_iter, tol : lbfgs settings. Non-convergence is recorded in ``converged``, not warned.
    standardize : bool
        Standardize features with mean and standard deviation fitted on ``train_Z`` (constant
        features are left centred, unscaled).

    Returns
    -------
    ProbeResult

    Raises
    ------
    ValueError
        Mismatched lengths or feature counts, NaN or infinite values, non-integer labels, or
        a training set with a single class.
    """
    _check_settings(C, confidence, n_bootstrap)
    train_Z, train_y, test_Z, test_y = _check_inputs(train_Z, train_y, test_Z, test_y)
    start = time.perf_counter()
    pred, train_accuracy, converged, n_iter, _ = _fit_probe(
        train_Z, train_y, test_Z, test_y, C=C, max_iter=max_iter, tol=tol,
        standardize=standardize)
    return _result(pred, test_y, train_Z, train_y, train_accuracy=train_accuracy,
                   converged=converged, n_iter=n_iter, n_bootstrap=n_bootstrap, seed=seed,
                   C=C, confidence=confidence, seconds=time.perf_counter() - start)


def _result(pred, test_y, train_Z, train_y, *, train_accuracy, converged, n_iter, n_bootstrap,
            seed, C, confidence, seconds, bits=None) -> ProbeResult:
    n_correct = int(np.sum(pred == test_y))
    low, high = bootstrap_interval(n_correct, len(test_y), n_bootstrap=n_bootstrap, seed=seed,
                                   confidence=confidence)
    return ProbeResult(
        accuracy=n_correct / len(test_y), ci_low=low, ci_high=high,
        train_accuracy=train_accuracy, n_train=len(train_y), n_test=len(test_y),
        n_features=train_Z.shape[1], n_classes=len(np.unique(train_y)),
        confidence=confidence, n_bootstrap=int(n_bootstrap), C=float(C),
        converged=converged, n_iter=n_iter, seconds=seconds, bits=bits,
    )


def _default_quantizer():
    """The unit-cube fit and grid rounding of ``helpers.measure.quantize``, as a quantizer."""
    try:
        from helpers.measure.quantize import fit_unit_cube, quantize
    except ImportError as error:  # pragma: no cover - depends on the package state
        raise ValueError("probe_curve needs a quantizer(train_Z, test_Z, bits) -> (train_q, "
                         "test_q) for finite bit depths.") from error

    def quantizer(train_Z, test_Z, bits):
        scaler = fit_unit_cube(train_Z)
        return quantize(scaler.transform(train_Z), bits), quantize(scaler.transform(test_Z), bits)

    return quantizer


def probe_curve(train_Z, train_y, test_Z, test_y, bits_list: Sequence[float | None], *,
                quantizer: Callable | None = None, n_bootstrap: int = N_BOOTSTRAP,
                seed: int = 0, C: float = 1.0, confidence: float = 0.95, max_iter: int = 200,
                tol: float = 1e-4, standardize: bool = True,
                warm_start: bool = False) -> ProbeCurve:
    """Linear-probe accuracy at each bit depth in ``bits_list``.

    Parameters
    ----------
    train_Z, train_y, test_Z, test_y :
        As in :func:`probe_accuracy` (full-precision representations).
    bits_list : sequence of float or None
        Bit depths to probe; ``None`` probes the full-precision representations.
    quantizer : callable, optional
        ``quantizer(train_Z, test_Z, bits) -> (train_q, test_q)``; it should fit any scaling
        on ``train_Z`` only. Default: :mod:`helpers.measure.quantize`'s unit-cube map (one global
        min/max fitted on train) followed by rounding to the grid ``2**-bits``.
    warm_start : bool
        Start each fit from the previous depth's coefficients (in the order given). Off by
        default: each depth's probe is then independent of the others.
    Other parameters as in :func:`probe_accuracy`; the same bootstrap seed is used at every
    depth.

    Returns
    -------
    ProbeCurve
        ``bits``, ``results`` (one :class:`ProbeResult` per depth, in order), and the
        ``accuracy``, ``ci_low`` and ``ci_high`` arrays.
    """
    if is_number(bits_list) or bits_list is None:
        raise ValueError("bits_list must be a sequence of bit depths (None = full precision).")
    bits_list = list(bits_list)
    if not bits_list:
        raise ValueError("bits_list is empty.")
    if any(bits is not None for bits in bits_list):  # the book's rule; the order is kept
        check_bits_list([bits for bits in bits_list if bits is not None], name="bits_list")
    _check_settings(C, confidence, n_bootstrap)
    train_Z, train_y, test_Z, test_y = _check_inputs(train_Z, train_y, test_Z, test_y)
    if any(bits is not None for bits in bits_list) and quantizer is None:
        quantizer = _default_quantizer()
    estimator = None
    if warm_start:
        from sklearn.linear_model import LogisticRegression

        estimator = LogisticRegression(C=C, max_iter=max_iter, tol=tol, warm_start=True)
    start_all = time.perf_counter()
    results = []
    for bits in bits_list:
        start = time.perf_counter()
        if bits is None:
            train_q, test_q = train_Z, test_Z
        else:
            train_q, test_q = quantizer(train_Z, test_Z, bits)
            train_q = check_points(train_q, name=f"quantized train_Z at {bits} bits")
            test_q = check_points(test_q, name=f"quantized test_Z at {bits} bits")
            if train_q.shape != train_Z.shape or test_q.shape != test_Z.shape:
                raise ValueError(f"the quantizer changed the shapes at {bits} bits: "
                                 f"{train_Z.shape} -> {train_q.shape}, {test_Z.shape} -> "
                                 f"{test_q.shape}.")
        pred, train_accuracy, converged, n_iter, estimator = _fit_probe(
            train_q, train_y, test_q, test_y, C=C, max_iter=max_iter, tol=tol,
            standardize=standardize, estimator=estimator)
        if not warm_start:
            estimator = None
        results.append(_result(pred, test_y, train_q, train_y, train_accuracy=train_accuracy,
                               converged=converged, n_iter=n_iter, n_bootstrap=n_bootstrap,
                               seed=seed, C=C, confidence=confidence,
                               seconds=time.perf_counter() - start,
                               bits=None if bits is None else float(bits)))
    return ProbeCurve(bits=bits_list, results=results, seconds=time.perf_counter() - start_all)


def precision_dimension_map(train_Z, train_y, test_Z, test_y, dims, bits, *, seed: int = 0,
                            C: float = 1.0, max_iter: int = 200):
    """Probe accuracy for every pair (principal components ``k``, precision ``p``).

    Introduced in the chapter "Precision lower bound" (its precision-against-dimension map)
    and reused by the appendix "Your own representation". For each ``k`` the representations
    are projected on the first ``k`` principal components of ``train_Z``; the projection is
    normalized to the unit cube in the book's way (one global minimum and maximum, fitted on
    the training projection), rounded to the grid ``2**-p``, and a probe is fitted on the
    result. The last column is the projection at full precision. No bootstrap: a map of
    point accuracies.

    Parameters
    ----------
    train_Z, train_y, test_Z, test_y :
        As in :func:`probe_accuracy`.
    dims : sequence of int
        Numbers of components; those above the representation's width are left out.
    bits : sequence of float
        Precisions (columns, ascending: the list is read by
        :func:`helpers._validation.check_bits_list`).
    seed : int
        Seed of the PCA's randomized solver.

    Returns
    -------
    (list of int, numpy.ndarray)
        The ``k`` kept, and accuracies of shape ``(len(ks), len(bits) + 1)``.
    """
    from sklearn.decomposition import PCA

    train_Z, train_y, test_Z, test_y = _check_inputs(train_Z, train_y, test_Z, test_y)
    bits = [float(p) for p in check_bits_list(bits)]
    ks = sorted({int(k) for k in dims if 1 <= int(k) <= min(train_Z.shape)})
    if not ks:
        raise ValueError(f"no number of components in {list(dims)} fits a representation of "
                         f"width {train_Z.shape[1]} with {train_Z.shape[0]} training rows.")
    grid = np.full((len(ks), len(bits) + 1), np.nan)
    for i, k in enumerate(ks):
        pca = PCA(n_components=k, random_state=seed).fit(train_Z)
        curve = probe_curve(pca.transform(train_Z), train_y, pca.transform(test_Z), test_y,
                            [*bits, None], n_bootstrap=0, seed=seed, C=C, max_iter=max_iter)
        grid[i] = curve.accuracy
    return ks, grid


def narrow_components(train_Z, k: int, *, seed: int = 0, span: float = 0.5) -> int:
    """How many of the first ``k`` principal components span less than ``span`` of the unit cube.

    Introduced in the chapter "Precision lower bound": after the book's global normalization
    (one minimum and maximum for all coordinates, as in :func:`precision_dimension_map`) the
    trailing components fill only a sliver of the cube, so at ``p = 1`` (grid step one half)
    a component of span below one half takes at most two values.
    """
    from sklearn.decomposition import PCA

    from helpers.measure.quantize import fit_unit_cube

    train_Z = np.asarray(train_Z, dtype=np.float64)
    if check_count(k, name="k") > min(train_Z.shape):
        raise ValueError(f"k must be an integer in [1, {min(train_Z.shape)}], got {k!r}.")
    if not 0 < span <= 1:
        raise ValueError(f"span is a share of the unit cube's side, in (0, 1]; got {span!r}.")
    projected = PCA(n_components=int(k), random_state=seed).fit_transform(train_Z)
    spans = np.ptp(fit_unit_cube(projected).transform(projected), axis=0)
    return int((spans < span).sum())


def budget_rows(label: str, ks, grid, bits) -> list[dict]:
    """The best cell of a precision x dimension map for each power-of-two storage budget.

    Introduced in the chapter "Precision lower bound". Storage is counted as the book counts
    it everywhere (the notation page): a coordinate rounded at precision ``p`` takes one of
    ``code_length_bits(p).levels`` values on ``[0, 1]`` and costs
    ``code_length_bits(p).bits`` bits, so ``k`` coordinates cost ``k`` times that, not
    ``k * p`` (``2 log2 3 = 3.17`` bits, not 2, for ``k = 2`` at ``p = 1``). A budget ``B``
    allows every pair whose code fits in it. Budgets run over the powers of two from the
    first that pays for the cheapest pair of the map to the first that pays for the dearest,
    so every pair is affordable at the largest budget.

    Parameters
    ----------
    label : str
        The network, copied into each row.
    ks, grid : from :func:`precision_dimension_map` (its last column, full precision, is not
        a budgeted choice).
    bits : sequence of float
        The map's precisions.

    Returns
    -------
    list of dict
        ``model``, ``budget [bits]``, ``code bits`` (what the chosen pair spends),
        ``best accuracy``, ``k`` and ``p``.
    """
    from helpers.measure.quantize import code_length_bits

    bits = [float(p) for p in bits]
    cost = {(k, p): k * code_length_bits(p).bits for k in ks for p in bits}
    low, high = (int(np.ceil(np.log2(f(cost.values())))) for f in (min, max))
    rows = []
    for budget in (2**j for j in range(max(low, 0), high + 1)):
        cells = [(grid[i][j], k, p) for i, k in enumerate(ks) for j, p in enumerate(bits)
                 if cost[k, p] <= budget]
        if cells:
            accuracy, k, p = max(cells)
            rows.append({"model": label, "budget [bits]": budget,
                         "code bits": round(cost[k, p], 2),
                         "best accuracy": round(float(accuracy), 3), "k": k, "p": p})
    return rows


__all__ = [
    "N_BOOTSTRAP",
    "ProbeCurve",
    "ProbeResult",
    "bootstrap_interval",
    "budget_rows",
    "narrow_components",
    "precision_dimension_map",
    "probe_accuracy",
    "probe_curve",
]
