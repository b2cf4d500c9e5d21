"""Embedding-store quantizers from faiss, and the retrieval measurements made on them.

Introduced in the chapter "Number formats in practice" (``notebooks/10_number_formats``),
which asks what a vector store keeps of a representation when it stores int8 or int4
scalar codes, product-quantization codes or sign bits instead of float32. The quantizers
are faiss's own, wrapped thinly so that they take the book's arrays and checks:

* scalar quantizers (``faiss.ScalarQuantizer``): ``sq8``, ``sq6`` and ``sq4`` learn one
  min/max range per dimension from the training split, ``sq8_uniform`` and ``sq4_uniform``
  one range shared by all dimensions, and ``fp16`` casts to half precision;
* product quantization (``faiss.ProductQuantizer``), ``pq`` with settings ``m`` (sub-vectors,
  which must divide the dimension) and ``nbits`` (bits per sub-vector code);
* sign bits, ``binary``, packed with :func:`numpy.packbits` and searched by Hamming distance
  with ``faiss.IndexBinaryFlat``.

:func:`fit` trains a quantizer on the training split and returns a :class:`StoreQuantizer`
whose :meth:`~StoreQuantizer.encode` and :meth:`~StoreQuantizer.decode` are applied to the
test split, as the rest of the book does. The measurements are pure functions of arrays:
:func:`neighbours` (exact L2 or Hamming k-NN), :func:`knn_recall` and
:func:`knn_recall_per_query` (recall@k against exact float32 neighbours, the figure an
embedding store's users check), :func:`recall_interval` (a bootstrap over the queries) and
:func:`relative_reconstruction_error`.

Determinism: every faiss call runs on one OpenMP thread (restored afterwards), and the
k-means of product quantization is seeded, so two runs give the same codes bit for bit.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from helpers._validation import (
    as_array,
    check_bootstrap,
    check_confidence,
    check_count,
    check_points,
    is_integer,
)

#: The quantizers :func:`fit` knows, with one line each on where they are used.
STORE_QUANTIZERS = {
    "sq8": "int8 scalar codes with a per-dimension min/max range (faiss IndexScalarQuantizer "
           "QT_8bit; the usual 4x compression of a vector store)",
    "sq6": "6-bit scalar codes with per-dimension ranges (faiss QT_6bit)",
    "sq4": "int4 scalar codes with per-dimension ranges (faiss QT_4bit; 8x compression)",
    "sq8_uniform": "int8 scalar codes with one range for all dimensions (faiss QT_8bit_uniform)",
    "sq4_uniform": "int4 scalar codes with one range for all dimensions (faiss QT_4bit_uniform)",
    "fp16": "half-precision storage (faiss QT_fp16; the default of many GPU vector stores)",
    "pq": "product quantization, m sub-vectors of nbits each (faiss ProductQuantizer; the "
          "codes inside IVF-PQ indexes of billion-scale stores)",
    "binary": "sign bits searched by Hamming distance (faiss IndexBinaryFlat; binary "
              "embeddings of retrieval services)",
}

#: faiss scalar-quantizer type of each ``sq`` name.
_SQ_TYPES = {"sq8": "QT_8bit", "sq6": "QT_6bit", "sq4": "QT_4bit",
             "sq8_uniform": "QT_8bit_uniform", "sq4_uniform": "QT_4bit_uniform",
             "fp16": "QT_fp16"}
_SQ_BITS = {"sq8": 8, "sq6": 6, "sq4": 4, "sq8_uniform": 8, "sq4_uniform": 4, "fp16": 16}
#: Settings each quantizer accepts (``pq`` needs ``m``; ``nbits`` defaults to 8).
_SETTINGS = {name: () for name in STORE_QUANTIZERS} | {"pq": ("m", "nbits")}
_PQ_DEFAULT_NBITS = 8
#: faiss's k-means advice is 39 points per centroid; below 2**nbits it cannot train at all.
_MAX_PQ_NBITS = 16
_FP16_MAX = 65504.0
#: Default number of bootstrap resamples, as for the probes.
N_BOOTSTRAP = 1000


# --------------------------------------------------------------------------- faiss access


def _faiss():
    """faiss, imported on first use so that the rest of ``helpers.measure`` stays light."""
    try:
        import faiss
    except ImportError as error:  # pragma: no cover - faiss-cpu is in requirements.txt
        raise ImportError("the embedding-store quantizers need faiss: pip install faiss-cpu"
                          ) from error
    return faiss


@contextmanager
def faiss_threads(num_threads: int = 1):
    """Run faiss on ``num_threads`` OpenMP threads inside the block, then restore the count.

    One thread makes k-means and the searches reproducible bit for bit and keeps faiss from
    competing with torch for the cores of a small machine.
    """
    faiss = _faiss()
    num_threads = check_count(num_threads, name="num_threads")
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(num_threads)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


# --------------------------------------------------------------------------- checks


def _check_float(values, *, name: str) -> np.ndarray:
    """``values`` as a finite C-contiguous float32 (n, d) array, the input faiss takes.

    float16 and integer arrays are refused rather than cast: they are already quantized, and
    measuring a store quantizer on them would mix two roundings.
    """
    array = as_array(values, name=name)
    if array.dtype.kind in "biu" or array.dtype == np.float16:
        raise ValueError(f"{name} has dtype {array.dtype}; pass float32 or float64 "
                         "representations (integer and float16 inputs are already quantized).")
    return np.ascontiguousarray(check_points(array, name=name, dtype=np.float32))


def _check_codes(codes, *, name: str, width: int | None = None) -> np.ndarray:
    """``codes`` as a C-contiguous uint8 (n, width) array."""
    array = np.asarray(codes)
    if array.dtype != np.uint8 or array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D uint8 array of codes (as encode "
                         f"returns), got dtype {array.dtype} and shape {array.shape}.")
    if width is not None and array.shape[1] != width:
        raise ValueError(f"{name} has {array.shape[1]} bytes per vector, but this quantizer "
                         f"stores {width}.")
    return np.ascontiguousarray(array)


def _check_width(a: np.ndarray, b: np.ndarray, *, names: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{names} have different widths ({a.shape[1]} and {b.shape[1]} "
                         "columns); both splits must come from the same representation.")


def _check_settings(name: str, settings: dict) -> dict:
    unknown = sorted(set(settings) - set(_SETTINGS[name]))
    if unknown:
        accepted = ", ".join(_SETTINGS[name]) or "none"
        raise ValueError(f"quantizer {name!r} takes no setting {', '.join(unknown)}; "
                         f"accepted settings: {accepted}.")
    if name != "pq":
        return {}
    if "m" not in settings:
        raise ValueError("quantizer 'pq' needs the number of sub-vectors, e.g. "
                         "fit('pq', train, m=8, nbits=8); m must divide the dimension.")
    m = check_count(settings["m"], name="m")
    nbits = settings.get("nbits", _PQ_DEFAULT_NBITS)
    if not is_integer(nbits) or not 1 <= nbits <= _MAX_PQ_NBITS:
        raise ValueError(f"nbits must be an integer from 1 to {_MAX_PQ_NBITS} (bits per "
                         f"sub-vector code), got {nbits!r}.")
    return {"m": m, "nbits": int(nbits)}


# --------------------------------------------------------------------------- quantizers


@dataclass(eq=False)
class StoreQuantizer:
    """A faiss quantizer trained on a training split, as :func:`fit` returns it.

    Attributes
    ----------
    name : str
        Key of :data:`STORE_QUANTIZERS`.
    settings : dict
        The checked settings (``m`` and ``nbits`` for ``pq``; empty otherwise).
    d : int
        Dimension of the representations.
    code_bits_per_dimension : float
        Stored bits per dimension: the scalar quantizer's bits, ``m * nbits / d`` for product
        quantization, 1 for sign bits. The scale and range parameters (two floats per
        dimension, or a codebook) are stored once per index, not per vector, and are not
        counted.
    code_size : int
        Bytes faiss stores per vector (whole bytes, so it may exceed
        ``code_bits_per_dimension * d / 8``, e.g. sign bits of d = 12 take 2 bytes).
    """

    name: str
    settings: dict
    d: int
    code_bits_per_dimension: float
    code_size: int
    _faiss_object: object = field(default=None, repr=False)
    _column_scale: np.ndarray | None = field(default=None, repr=False)
    _num_threads: int = field(default=1, repr=False)

    def encode(self, x) -> np.ndarray:
        """Codes of the rows of ``x``: a uint8 array of shape (n, ``code_size``).

        Raises
        ------
        ValueError
            If ``x`` is not a finite float array of width ``d`` (float16 and integers are
            refused), or, for ``fp16``, holds values beyond the largest half-precision one.
        """
        x = _check_float(x, name="x")
        if x.shape[1] != self.d:
            raise ValueError(f"x has {x.shape[1]} columns, but the quantizer was trained on "
                             f"{self.d}; train and test splits must have the same width.")
        if self.name == "fp16":
            _refuse_fp16_overflow(x, name="x")
        if self.name == "binary":
            # Bit 1 for a positive coordinate, 0 otherwise (zero included).
            return np.packbits(x > 0, axis=1)
        with faiss_threads(self._num_threads):
            return self._faiss_object.compute_codes(x)

    def decode(self, codes) -> np.ndarray:
        """The float64 reconstruction of ``codes`` (shape (n, d)).

        For ``binary`` a set bit decodes to ``+s_j`` and a clear one to ``-s_j``, where
        ``s_j`` is the mean absolute value of column j on the training split: the same
        reconstruction as the ``binary`` number format, except that an exact zero, which
        has no sign bit of its own, comes back as ``-s_j``.
        """
        codes = _check_codes(codes, name="codes", width=self.code_size)
        if self.name == "binary":
            bits = np.unpackbits(codes, axis=1, count=self.d).astype(np.float64)
            return (2.0 * bits - 1.0) * self._column_scale
        with faiss_threads(self._num_threads):
            return self._faiss_object.decode(codes).astype(np.float64)

    def reconstruct(self, x) -> np.ndarray:
        """``decode(encode(x))``: what the store gives back for ``x``, as float64."""
        return self.decode(self.encode(x))


def _refuse_fp16_overflow(x: np.ndarray, *, name: str) -> None:
    # faiss casts such values to infinity, which would poison every later distance.
    if np.any(np.abs(x) > _FP16_MAX):
        raise ValueError(f"{name} holds values beyond +-{_FP16_MAX:g}, which fp16 stores as "
                         "infinity; rescale the representations first.")


def fit(name: str, train, *, seed: int = 0, num_threads: int = 1,
        **settings) -> StoreQuantizer:
    """Train the store quantizer ``name`` on the training representations ``train``.

    Parameters
    ----------
    name : str
        A key of :data:`STORE_QUANTIZERS`.
    train : array_like, shape (n, d)
        Training representations, float32 or float64 (cast to float32, as faiss stores
        them).
    seed : int
        Seed of the k-means of product quantization (the other quantizers are deterministic).
    num_threads : int
        OpenMP threads faiss may use while training, encoding and decoding (1 keeps the
        results reproducible bit for bit).
    **settings
        ``pq`` only: ``m`` sub-vectors (must divide d) and ``nbits`` bits per sub-vector
        code (1 to 16, default 8).

    Returns
    -------
    StoreQuantizer

    Raises
    ------
    ValueError
        For an unknown quantizer (the known ones are listed), unknown or bad settings, an
        ``m`` that does not divide d, fewer than ``2**nbits`` training rows for ``pq`` (the
        number needed is given), or bad training data.

    Notes
    -----
    Scalar quantizers learn their ranges with faiss's default ``RS_minmax`` (the training
    minimum and maximum; test values outside are clipped to them). Product quantization
    runs faiss's k-means with 2**nbits centroids per sub-space; faiss advises about 39
    training points per centroid and prints a warning below that. The warning is silenced
    here (it would land in the notebooks' output); the reconstruction error the chapter
    reports shows what too few training points cost.
    """
    if not isinstance(name, str) or name not in STORE_QUANTIZERS:
        raise ValueError(f"unknown store quantizer {name!r}; known ones: "
                         f"{', '.join(STORE_QUANTIZERS)}.")
    checked = _check_settings(name, settings)
    seed = check_count(seed, name="seed", minimum=0)
    num_threads = check_count(num_threads, name="num_threads")
    train = _check_float(train, name="train")
    n, d = train.shape
    faiss = _faiss()
    if name == "binary":
        scale = np.abs(train.astype(np.float64)).mean(axis=0)
        return StoreQuantizer(name, checked, d, 1.0, (d + 7) // 8, None, scale, num_threads)
    if name == "pq":
        m, nbits = checked["m"], checked["nbits"]
        if d % m:
            divisors = [k for k in range(1, d + 1) if d % k == 0]
            raise ValueError(f"pq needs m to divide the dimension d={d}, got m={m}; "
                             f"possible m: {divisors}.")
        if n < 2 ** nbits:
            raise ValueError(f"pq with nbits={nbits} trains 2**{nbits} = {2 ** nbits} centroids "
                             f"per sub-space and needs at least {2 ** nbits} training rows, "
                             f"got {n}; lower nbits or pass more rows.")
        quantizer = faiss.ProductQuantizer(d, m, nbits)
        quantizer.cp.seed = seed
        quantizer.cp.min_points_per_centroid = 1  # silence the C-level warning (see Notes)
        bits = m * nbits / d
    else:
        if name == "fp16":
            _refuse_fp16_overflow(train, name="train")
        quantizer = faiss.ScalarQuantizer(d, getattr(faiss.ScalarQuantizer, _SQ_TYPES[name]))
        bits = float(_SQ_BITS[name])
    with faiss_threads(num_threads):
        quantizer.train(train)
    return StoreQuantizer(name, checked, d, bits, int(quantizer.code_size), quantizer, None,
                          num_threads)


# --------------------------------------------------------------------------- measurements


def neighbours(train, test, k: int = 10, *, num_threads: int = 1
               ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest training rows of every test row, by exact search.

    Float arrays are searched by squared Euclidean distance (``faiss.IndexFlatL2``, in
    float32); uint8 arrays are read as packed sign bits (:meth:`StoreQuantizer.encode` of
    ``binary``) and searched by Hamming distance (``faiss.IndexBinaryFlat``). Ties are
    broken by faiss (in practice by the lower index).

    Returns
    -------
    distances : ndarray, shape (n_test, k)
        Squared L2 distances (float32) or Hamming distances (int32).
    indices : ndarray of int64, shape (n_test, k)
        Row numbers in ``train``.

    Raises
    ------
    ValueError
        For mismatched widths, ``k`` above the number of training rows, or bad arrays.
    """
    binary = np.asarray(train).dtype == np.uint8
    if binary:
        train = _check_codes(train, name="train")
        test = _check_codes(test, name="test")
    else:
        train = _check_float(train, name="train")
        test = _check_float(test, name="test")
    _check_width(train, test, names="train and test")
    k = check_count(k, name="k")
    if k > train.shape[0]:
        raise ValueError(f"k={k} exceeds the {train.shape[0]} training rows to search.")
    faiss = _faiss()
    with faiss_threads(num_threads):
        index = faiss.IndexBinaryFlat(8 * train.shape[1]) if binary \
            else faiss.IndexFlatL2(train.shape[1])
        index.add(train)
        distances, indices = index.search(test, k)
    return distances, indices.astype(np.int64)


def knn_recall_per_query(reference_train, reference_test, approx_train, approx_test,
                         k: int = 10, *, num_threads: int = 1) -> np.ndarray:
    """Recall@k of each test query: the share of its exact neighbours the store finds.

    The exact neighbours are searched among ``reference_train`` (float32, L2); the store's
    among ``approx_train`` (reconstructions searched by L2, or packed sign bits by Hamming
    distance, see :func:`neighbours`). Both sides must hold the same rows in the same order.
    Hamming distances take only d + 1 values, so ties at the k-th neighbour are common for
    small d; faiss keeps the lower row numbers, and the recall depends on that choice.

    Returns
    -------
    ndarray of float64, shape (n_test,)
        Values in {0, 1/k, ..., 1}.
    """
    reference_train = _check_float(reference_train, name="reference_train")
    reference_test = _check_float(reference_test, name="reference_test")
    for name, ref, approx in (("train", reference_train, approx_train),
                              ("test", reference_test, approx_test)):
        rows = np.shape(approx)[0] if np.ndim(approx) else 0
        if rows != ref.shape[0]:
            raise ValueError(f"approx_{name} has {rows} rows but reference_{name} has "
                             f"{ref.shape[0]}; pass the same rows, quantized.")
    _, exact = neighbours(reference_train, reference_test, k, num_threads=num_threads)
    _, found = neighbours(approx_train, approx_test, k, num_threads=num_threads)
    hits = (found[:, :, None] == exact[:, None, :]).any(axis=2).sum(axis=1)
    return hits / k


def knn_recall(reference_train, reference_test, approx_train, approx_test, k: int = 10, *,
               num_threads: int = 1) -> float:
    """Mean recall@k of the store's neighbours against exact float32 neighbours.

    The mean of :func:`knn_recall_per_query`; 1 when the quantized space orders every
    query's neighbours as float32 does.
    """
    return float(knn_recall_per_query(reference_train, reference_test, approx_train,
                                      approx_test, k, num_threads=num_threads).mean())


def recall_interval(per_query, *, n_bootstrap: int = N_BOOTSTRAP, seed: int = 0,
                    confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean recall over the test queries.

    Resampling the n queries with replacement counts how often each distinct per-query value
    is drawn, a multinomial draw, so the resamples are drawn from it directly (the shortcut
    :func:`helpers.measure.probes.bootstrap_interval` takes with the binomial). It covers the
    sampling of the queries only. With ``n_bootstrap = 0`` the interval is the point itself.

    Parameters
    ----------
    per_query : array_like, shape (n,)
        Per-query recalls, as :func:`knn_recall_per_query` returns them.
    """
    values = np.asarray(per_query, dtype=np.float64).reshape(-1) \
        if np.asarray(per_query).dtype.kind in "iuf" else None
    if values is None or values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("per_query must be a non-empty array of finite per-query recalls.")
    n_bootstrap = check_bootstrap(n_bootstrap)
    confidence = check_confidence(confidence)
    seed = check_count(seed, name="seed", minimum=0)
    mean = float(values.mean())
    if n_bootstrap == 0:
        return mean, mean
    distinct, counts = np.unique(values, return_counts=True)
    rng = np.random.default_rng(seed)
    resampled = rng.multinomial(values.size, counts / values.size, size=n_bootstrap) \
        @ distinct / values.size
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return float(low), float(high)


def relative_reconstruction_error(x, x_hat) -> float:
    """``||x - x_hat||_F / ||x||_F``, the share of the representation the store loses.

    Raises
    ------
    ValueError
        If the shapes differ, an array is not finite, or ``x`` is all zeros (the ratio has
        no meaning then).
    """
    x = check_points(x, name="x")
    x_hat = check_points(x_hat, name="x_hat")
    if x.shape != x_hat.shape:
        raise ValueError(f"x has shape {x.shape} but x_hat has {x_hat.shape}; pass the "
                         "reconstruction of the same rows.")
    norm = np.linalg.norm(x)
    if norm == 0:
        raise ValueError("x is all zeros, so the relative error is undefined.")
    return float(np.linalg.norm(x - x_hat) / norm)
