"""Embedding-store quantizers (faiss) and retrieval measurements, against known answers."""

from __future__ import annotations

import numpy as np
import pytest

faiss = pytest.importorskip("faiss")

from helpers.measure.embedding_store import (  # noqa: E402
    STORE_QUANTIZERS,
    faiss_threads,
    fit,
    knn_recall,
    knn_recall_per_query,
    neighbours,
    recall_interval,
    relative_reconstruction_error,
)

SQ_LEVELS = {"sq8": 255, "sq6": 63, "sq4": 15}


def gaussian(n=300, d=16, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(dtype)


def brute_force_recall(ref_train, ref_test, app_train, app_test, k):
    """Recall@k by plain numpy distances and argsort."""
    def knn(train, test):
        dist = ((test[:, None, :].astype(np.float64) - train[None].astype(np.float64)) ** 2
                ).sum(axis=2)
        return np.argsort(dist, axis=1, kind="stable")[:, :k]
    exact, found = knn(ref_train, ref_test), knn(app_train, app_test)
    return np.mean([len(set(a) & set(b)) / k for a, b in zip(exact, found, strict=True)])


# --------------------------------------------------------------------------- quantizers


def test_registry_lists_every_quantizer_with_a_line():
    assert set(STORE_QUANTIZERS) == {"sq8", "sq6", "sq4", "sq8_uniform", "sq4_uniform", "fp16",
                                     "pq", "binary"}
    assert all(isinstance(line, str) and line for line in STORE_QUANTIZERS.values())


@pytest.mark.parametrize("name", sorted(SQ_LEVELS))
def test_scalar_quantizer_error_below_half_a_step_of_the_training_range(name):
    train, test = gaussian(seed=1), gaussian(seed=2)
    low, high = train.min(axis=0), train.max(axis=0)
    test = np.clip(test, low, high)  # inside the learned range, nothing is clipped
    quantizer = fit(name, train)
    half_step = 0.5 * (high - low).astype(np.float64) / SQ_LEVELS[name]
    slack = 4 * np.finfo(np.float32).eps * np.abs(train).max()  # faiss decodes in float32
    for x in (train, test):
        x_hat = quantizer.reconstruct(x)
        assert x_hat.dtype == np.float64 and x_hat.shape == x.shape
        assert np.all(np.abs(x_hat - x) <= half_step + slack)
    assert quantizer.code_bits_per_dimension == int(name[2:])


def test_uniform_ranges_share_one_step_across_dimensions():
    train = gaussian(d=8) * np.arange(1, 9, dtype=np.float32)  # widths differ by column
    per_dim = fit("sq4", train).reconstruct(train)
    uniform = fit("sq4_uniform", train).reconstruct(train)
    narrow = slice(0, 1)  # the narrowest column loses most from the shared range
    assert np.abs(uniform - train)[:, narrow].max() > np.abs(per_dim - train)[:, narrow].max()
    step = (train.max() - train.min()) / 15
    slack = 4 * np.finfo(np.float32).eps * np.abs(train).max()
    assert np.abs(uniform - train).max() <= 0.5 * step + slack


def test_fp16_equals_the_numpy_half_precision_round_trip():
    x = gaussian(n=500, d=12, seed=3) * np.float32(100)
    quantizer = fit("fp16", x[:100])
    assert quantizer.code_bits_per_dimension == 16 and quantizer.code_size == 24
    np.testing.assert_array_equal(quantizer.reconstruct(x),
                                  x.astype(np.float16).astype(np.float64))


def test_fp16_rounds_exact_ties_away_from_zero_unlike_numpy():
    # A documented difference: faiss's fp16 encoder rounds a tie up in magnitude, numpy
    # rounds it to even. Random data almost never lands on a tie.
    tie = np.float32([[1 + 2**-11, -(1 + 2**-11)]])
    assert fit("fp16", tie).reconstruct(tie).tolist() == [[1 + 2**-10, -(1 + 2**-10)]]
    assert tie.astype(np.float16).astype(np.float64).tolist() == [[1.0, -1.0]]


def test_pq_with_one_centroid_per_training_row_reconstructs_training_data_exactly():
    nbits = 4
    train = gaussian(n=2**nbits, d=12, seed=5)
    quantizer = fit("pq", train, m=3, nbits=nbits)
    codes = quantizer.encode(train)
    assert codes.dtype == np.uint8 and codes.shape == (16, 2)  # 3 sub-vectors x 4 bits
    np.testing.assert_array_equal(quantizer.decode(codes), train.astype(np.float64))
    assert quantizer.code_bits_per_dimension == 3 * 4 / 12


@pytest.mark.parametrize(("m", "nbits"), [(2, 8), (4, 4), (8, 8), (16, 2)])
def test_pq_settings_give_their_stored_bits_and_finite_reconstructions(m, nbits):
    train, test = gaussian(n=400, seed=6), gaussian(n=50, seed=7)
    quantizer = fit("pq", train, m=m, nbits=nbits)
    assert quantizer.code_bits_per_dimension == m * nbits / 16
    x_hat = quantizer.reconstruct(test)
    assert x_hat.shape == test.shape and np.all(np.isfinite(x_hat))
    assert relative_reconstruction_error(test, x_hat) < 1.0


def test_more_pq_bits_reconstruct_better():
    train, test = gaussian(n=600, seed=8), gaussian(n=100, seed=9)
    errors = [relative_reconstruction_error(test, fit("pq", train, m=m, nbits=8)
                                            .reconstruct(test)) for m in (2, 4, 8, 16)]
    assert errors == sorted(errors, reverse=True)


def test_binary_codes_are_packed_signs_and_decode_to_column_mean_magnitudes():
    train, test = gaussian(d=12, seed=10), gaussian(n=40, d=12, seed=11)
    quantizer = fit("binary", train)
    codes = quantizer.encode(test)
    np.testing.assert_array_equal(codes, np.packbits(test > 0, axis=1))
    assert quantizer.code_size == 2 and quantizer.code_bits_per_dimension == 1.0
    scale = np.abs(train.astype(np.float64)).mean(axis=0)
    np.testing.assert_allclose(quantizer.decode(codes), np.where(test > 0, 1.0, -1.0) * scale)


def test_hamming_distances_equal_a_plain_bit_count():
    quantizer = fit("binary", gaussian(d=20, seed=12))
    train = quantizer.encode(gaussian(n=60, d=20, seed=13))
    test = quantizer.encode(gaussian(n=15, d=20, seed=14))
    distances, indices = neighbours(train, test, k=5)
    bits_train = np.unpackbits(train, axis=1)
    bits_test = np.unpackbits(test, axis=1)
    counts = (bits_test[:, None, :] != bits_train[None]).sum(axis=2)
    np.testing.assert_array_equal(distances, np.take_along_axis(counts, indices, axis=1))
    np.testing.assert_array_equal(distances, np.sort(counts, axis=1)[:, :5])


def test_fit_and_search_are_reproducible():
    train, test = gaussian(n=500, seed=15), gaussian(n=60, seed=16)
    runs = []
    for _ in range(2):
        quantizer = fit("pq", train, m=4, nbits=6, seed=3)
        x_hat = quantizer.reconstruct(test)
        runs.append((quantizer.encode(test), x_hat, knn_recall(train, test,
                                                               quantizer.reconstruct(train),
                                                               x_hat)))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]


def test_faiss_threads_are_restored():
    before = faiss.omp_get_max_threads()
    with faiss_threads(1):
        assert faiss.omp_get_max_threads() == 1
    assert faiss.omp_get_max_threads() == before


# --------------------------------------------------------------------------- measurements


def test_knn_recall_is_one_when_the_approximation_is_exact():
    train, test = gaussian(seed=17), gaussian(n=30, seed=18)
    assert knn_recall(train, test, train, test) == 1.0
    assert knn_recall(train, test, train.astype(np.float64), test.astype(np.float64), k=3) == 1


def test_knn_recall_matches_numpy_brute_force_on_random_data():
    train, test = gaussian(n=200, seed=19), gaussian(n=40, seed=20)
    noise = np.random.default_rng(21)
    app_train = train + 0.5 * noise.standard_normal(train.shape).astype(np.float32)
    app_test = test + 0.5 * noise.standard_normal(test.shape).astype(np.float32)
    recall = knn_recall(train, test, app_train, app_test, k=10)
    assert 0 < recall < 1
    assert recall == pytest.approx(brute_force_recall(train, test, app_train, app_test, 10))


def test_knn_recall_searches_binary_codes_by_hamming_distance():
    train, test = gaussian(n=200, seed=22), gaussian(n=30, seed=23)
    quantizer = fit("binary", train)
    per_query = knn_recall_per_query(train, test, quantizer.encode(train),
                                     quantizer.encode(test), k=10)
    assert per_query.shape == (30,) and np.all((per_query >= 0) & (per_query <= 1))
    assert np.allclose(per_query * 10, np.round(per_query * 10))


def test_recall_interval_brackets_the_mean_and_collapses_without_resamples():
    per_query = np.repeat([0.5, 0.8, 1.0], [10, 20, 30])
    low, high = recall_interval(per_query, n_bootstrap=2000, seed=1)
    assert low < per_query.mean() < high
    assert recall_interval(per_query, n_bootstrap=0) == (per_query.mean(), per_query.mean())
    assert recall_interval(np.ones(10)) == (1.0, 1.0)
    assert recall_interval(per_query, seed=4) == recall_interval(per_query, seed=4)


def test_relative_reconstruction_error_known_answers():
    x = np.array([[3.0, 4.0]])
    assert relative_reconstruction_error(x, x) == 0.0
    assert relative_reconstruction_error(x, np.zeros_like(x)) == 1.0
    assert relative_reconstruction_error(x, [[3.0, 4.5]]) == pytest.approx(0.1)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("call", "match"), [
    (lambda x: fit("sq3", x), "unknown store quantizer 'sq3'; known ones: sq8, sq6"),
    (lambda x: fit(None, x), "unknown store quantizer"),
    (lambda x: fit("sq8", x, m=4), "takes no setting m; accepted settings: none"),
    (lambda x: fit("pq", x, m=4, bits=8), "takes no setting bits; accepted settings: m, nbits"),
    (lambda x: fit("pq", x), "needs the number of sub-vectors"),
    (lambda x: fit("pq", x, m=5), r"m to divide the dimension d=16, got m=5; possible m: "
                                  r"\[1, 2, 4, 8, 16\]"),
    (lambda x: fit("pq", x, m=0), "m must be a positive integer"),
    (lambda x: fit("pq", x, m=4.0), "m must be a positive integer"),
    (lambda x: fit("pq", x, m=4, nbits=0), "nbits must be an integer from 1 to 16"),
    (lambda x: fit("pq", x, m=4, nbits=17), "nbits must be an integer from 1 to 16"),
    (lambda x: fit("pq", x, m=4, nbits=True), "nbits must be an integer"),
    (lambda x: fit("pq", x[:100], m=4, nbits=8), "needs at least 256 training rows, got 100"),
    (lambda x: fit("sq8", x, seed=-1), "seed must be an integer >= 0"),
    (lambda x: fit("sq8", x, num_threads=0), "num_threads must be a positive integer"),
    (lambda x: fit("sq8", x.astype(np.float16)), "dtype float16"),
    (lambda x: fit("sq8", np.ones((5, 3), dtype=np.int64)), "dtype int64"),
    (lambda x: fit("sq8", x[0]), "must be a 2-D array"),
    (lambda x: fit("sq8", x[:0]), "is empty"),
    (lambda x: fit("sq8", np.where(x > 2, np.nan, x)), "NaN or infinite"),
    (lambda x: fit("sq8", "abc"), "must be numeric"),
    (lambda x: fit("fp16", x * 1e5), "beyond"),
    (lambda x: fit("fp16", x).encode(x * 1e5), "beyond"),
    (lambda x: fit("sq8", x).encode(x[:, :8]), "trained on 16; train and test splits must"),
    (lambda x: fit("sq8", x).decode(np.zeros((3, 8), np.uint8)), "stores 16"),
    (lambda x: fit("sq8", x).decode(np.zeros((3, 16), np.int32)), "uint8 array of codes"),
    (lambda x: fit("binary", x).decode(np.zeros((3, 3), np.uint8)), "stores 2"),
])
def test_fit_refuses_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call(gaussian(n=300, d=16))


@pytest.mark.parametrize(("call", "match"), [
    (lambda x, y: knn_recall(x, y[:, :8], x, y), "different widths"),
    (lambda x, y: knn_recall(x, y, x[:, :8], y[:, :8]), None),  # approx may differ in width
    (lambda x, y: knn_recall(x, y, x[:-1], y), "approx_train has 99 rows but reference_train"),
    (lambda x, y: knn_recall(x, y, x, y[:-1]), "approx_test has 19 rows"),
    (lambda x, y: knn_recall(x, y, x, y, k=101), "k=101 exceeds the 100 training rows"),
    (lambda x, y: knn_recall(x, y, x, y, k=0), "k must be a positive integer"),
    (lambda x, y: knn_recall(x.astype(np.float16), y, x, y), "dtype float16"),
    (lambda x, y: neighbours(np.packbits(x > 0, axis=1), y), "uint8 array of codes"),
    (lambda x, y: recall_interval([]), "non-empty array"),
    (lambda x, y: recall_interval(["a"]), "non-empty array"),
    (lambda x, y: recall_interval([0.5, np.nan]), "finite"),
    (lambda x, y: recall_interval([0.5], confidence=95), "write a level of 95"),
    (lambda x, y: recall_interval([0.5], n_bootstrap=-1), "n_bootstrap must be"),
    (lambda x, y: relative_reconstruction_error(x, y), "shape"),
    (lambda x, y: relative_reconstruction_error(np.zeros((2, 2)), np.ones((2, 2))), "all zeros"),
    (lambda x, y: relative_reconstruction_error(x, x * np.inf), "NaN or infinite"),
])
def test_measurements_refuse_bad_input(call, match):
    train, test = gaussian(n=100, d=16, seed=30), gaussian(n=20, d=16, seed=31)
    if match is None:
        call(train, test)
        return
    with pytest.raises(ValueError, match=match):
        call(train, test)
