"""Neural estimates of mutual information: InfoNCE (a lower bound) and MINE, in bits.

Introduced in the chapter "MI comparison" (``notebooks/06_mi_comparison``), next to the
count-based and nearest-neighbour estimators of :mod:`helpers.measure.information`. Both train a
small critic network on one part of the sample and report the bound evaluated on the
held-out rest, as an :class:`~helpers.measure.information.MIEstimate`. Only InfoNCE's
estimate is a lower bound on average; MINE's is biased upward (see :func:`mine_mi`).

:func:`infonce_mi`
    van den Oord, Li and Vinyals (2018); Poole et al. (2019). With a separable critic
    ``f(x, y) = g(x) . h(y)`` and a batch of K pairs,
    ``I >= log K + mean_i f(x_i, y_i) - mean_i logsumexp_j f(x_i, y_j)``. Every row's term
    is at most ``log K``, so the estimate can never exceed ``log2 K`` bits, however large
    the true MI: the ceiling is reported always, and an estimate at it means "at least".
:func:`mine_mi`
    Belghazi et al. (2018), MINE. A joint critic ``T(x, y)`` and the Donsker-Varadhan bound
    ``I >= E_P[T] - log E_Q[e^T]``, with Q the product of the marginals (pairs shuffled
    within the batch). The gradient of ``log E_Q[e^T]`` is biased on a minibatch; MINE
    replaces its denominator with an exponential moving average of ``E_Q[e^T]`` (rate
    ``ema_rate``). The bound holds for the expectations, but its finite-sample estimate
    takes the log of a sample mean of ``e^T``, which Jensen's inequality biases upward
    (Poole et al., 2019): the estimate is not a lower bound and has no ceiling. The
    ``log E_Q[e^T]`` term also has a variance that grows like ``e^I``, so large values
    are noisy and can overshoot.

Protocol shared by both. Inputs are rescaled coordinate-wise (``scaling``): by default
InfoNCE uses the mean and standard deviation of the training part, MINE the normal scores of
the ranks (:func:`normal_scores`), which heavy tails cannot distort. A random ``holdout``
fraction is held out; after every epoch the bound is evaluated there, the best critic is
kept, and training stops after ``patience`` epochs without improvement. The estimate is the
bound of that critic on the held-out part, over ``n_eval_rounds`` random batchings (InfoNCE)
or pairings (MINE). Selecting the epoch on the same held-out part makes the estimate
slightly optimistic (the maximum of noisy values); with a few hundred held-out points this
is a few hundredths of a bit.

Intervals (percentile bootstrap over held-out points, ``n_bootstrap`` resamples). For
InfoNCE each held-out point's row term is averaged over the batchings it appeared in, and
the points' averages are resampled; for MINE a resample draws held-out points with their
joint term and their shuffled-pair terms, and the DV bound is recomputed. Both cover the
held-out sampling error of *this* critic, not the variation between training runs (rerun
with other seeds for that) and not the bias of the bound.
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
from torch import nn

from helpers._validation import (
    check_bootstrap,
    check_choice,
    check_confidence,
    check_count,
    check_real,
)
from helpers.measure.information import MIEstimate, check_paired_samples

__all__ = ["infonce_mi", "mine_mi", "normal_scores"]

_LN2 = math.log(2.0)


# --------------------------------------------------------------------------- checks


def _check_settings(*, batch_size, epochs, hidden, lr, patience, holdout, n_eval_rounds,
                    n_bootstrap, confidence):
    for name, value, minimum in (("batch_size", batch_size, 2), ("epochs", epochs, 1),
                                 ("hidden", hidden, 1), ("patience", patience, 1),
                                 ("n_eval_rounds", n_eval_rounds, 1)):
        check_count(value, name=name, minimum=minimum)
    check_bootstrap(n_bootstrap)
    check_real(lr, name="lr", low=0.0, include_low=False)
    check_real(holdout, name="holdout", low=0.0, high=1.0, include_low=False,
               include_high=False)
    check_confidence(confidence)


#: How each variable is put on a common scale before the critic sees it (``scaling``).
SCALINGS = ("standard", "rank")


def normal_scores(array: np.ndarray) -> np.ndarray:
    """Each column replaced by the standard normal quantiles of its mid-ranks.

    ``Phi^-1((r - 1/2) / n)`` for the mid-rank ``r`` (1 to n) of each value in its column:
    a strictly increasing map of each column's distinct values, so the mutual information
    of the sample is unchanged (the Gaussian copula transform). Every value lands within
    ``+-Phi^-1(1 - 1/(2n))`` (3.5 at n = 2,000) whatever the tails of the column, and tied
    values stay tied. A constant column maps to 0. Introduced with :func:`mine_mi` in the
    chapter "MI comparison".
    """
    from scipy.special import ndtri
    from scipy.stats import rankdata

    array = np.asarray(array, dtype=np.float64)
    return ndtri((rankdata(array, axis=0) - 0.5) / len(array))


def _prepare(x, y, *, batch_size, holdout, seed, device, scaling="standard"):
    """Validate, split into training and held-out parts, rescale, make float32 tensors.

    ``scaling="standard"``: mean and standard deviation of the training part.
    ``scaling="rank"``: :func:`normal_scores` over the whole sample. The ranks use each
    variable's values on their own, never the pairing, so the held-out pairs remain unseen.
    """
    check_choice(scaling, SCALINGS, name="scaling")
    x, y = check_paired_samples(x, y)
    n = len(x)
    n_holdout = int(round(holdout * n))
    n_train = n - n_holdout
    if n_train < batch_size or n_holdout < batch_size:
        raise ValueError(
            f"{n} samples with holdout={holdout:g} give {n_train} training and {n_holdout} "
            f"held-out points; both parts need at least batch_size={batch_size}. Pass a "
            f"smaller batch_size, or at least {math.ceil(batch_size / min(holdout, 1 - holdout))}"
            " samples.")
    order = np.random.default_rng([seed, 0x6D69]).permutation(n)
    train, held = order[:n_train], order[n_train:]

    def standardize(array):
        if scaling == "rank":
            scaled = normal_scores(array)
            return (torch.as_tensor(scaled[train], dtype=torch.float32, device=device),
                    torch.as_tensor(scaled[held], dtype=torch.float32, device=device))
        mean = array[train].mean(axis=0)
        std = array[train].std(axis=0)
        std = np.where(std > 0, std, 1.0)
        scaled = (array - mean) / std
        return (torch.as_tensor(scaled[train], dtype=torch.float32, device=device),
                torch.as_tensor(scaled[held], dtype=torch.float32, device=device))

    return standardize(x), standardize(y), n


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                         nn.ReLU(), nn.Linear(hidden, d_out))


class _SeparableCritic(nn.Module):
    """``f(x, y) = g(x) . h(y)``: one pass per side scores all K x K pairs of a batch."""

    def __init__(self, d_x: int, d_y: int, hidden: int, embedding: int):
        super().__init__()
        self.g = _mlp(d_x, hidden, embedding)
        self.h = _mlp(d_y, hidden, embedding)

    def forward(self, x, y):
        return self.g(x) @ self.h(y).T


class _JointCritic(nn.Module):
    """``T(x, y)``: an MLP on the concatenation."""

    def __init__(self, d_x: int, d_y: int, hidden: int):
        super().__init__()
        self.net = _mlp(d_x + d_y, hidden, 1)

    def forward(self, x, y):
        return self.net(torch.cat([x, y], dim=1)).squeeze(1)


# --------------------------------------------------------------------------- bounds


def _infonce_row_terms(critic, x, y, batch_size, n_rounds, generator):
    """Per held-out point: mean over random batchings of its row term (nats), each <= log K."""
    m = len(x)
    n_batches = m // batch_size
    with torch.no_grad():
        gx, hy = critic.g(x), critic.h(y)
        total = torch.zeros(m, dtype=torch.float64)
        seen = torch.zeros(m, dtype=torch.float64)
        for _ in range(n_rounds):
            index = torch.randperm(m, generator=generator)[:n_batches * batch_size]
            index = index.reshape(n_batches, batch_size)
            scores = torch.einsum("bke,ble->bkl", gx[index], hy[index])
            terms = (torch.diagonal(scores, dim1=1, dim2=2) - torch.logsumexp(scores, dim=2)
                     + math.log(batch_size))
            total.index_add_(0, index.reshape(-1), terms.reshape(-1).double().cpu())
            seen.index_add_(0, index.reshape(-1), torch.ones(index.numel(), dtype=torch.float64))
    keep = seen > 0
    return (total[keep] / seen[keep]).numpy()


def _shifted_pairs(m, generator):
    """Indices (i, j) with j != i: a random permutation paired with its cyclic shift."""
    order = torch.randperm(m, generator=generator)
    return order, torch.roll(order, 1)


def _dv_terms(critic, x, y, n_rounds, generator):
    """Joint terms T(x_i, y_i) (m,) and shuffled-pair terms (m, n_rounds), indexed by x_i."""
    m = len(x)
    with torch.no_grad():
        joint = critic(x, y).double().cpu()
        marginal = torch.empty(m, n_rounds, dtype=torch.float64)
        for r in range(n_rounds):
            i, j = _shifted_pairs(m, generator)
            marginal[i, r] = critic(x[i], y[j]).double().cpu()
    return joint.numpy(), marginal.numpy()


def _dv_nats(joint, marginal):
    """DV bound mean(T_P) - log mean(e^T_Q) along the last axes (rows of a resample stack)."""
    from scipy.special import logsumexp

    flat = marginal.reshape(*marginal.shape[:-2], -1)
    return joint.mean(axis=-1) - (logsumexp(flat, axis=-1) - math.log(flat.shape[-1]))


def _interval(resampled, confidence):
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return float(low), float(high)


# --------------------------------------------------------------------------- training loop


def _train(critic, step, evaluate, x_train, y_train, *, batch_size, epochs, lr, patience,
           generator, progress, description):
    """Adam on minibatches (incomplete last batch dropped), early stopping on ``evaluate``."""
    from tqdm import tqdm  # tqdm.auto warns in kernels without ipywidgets

    optimizer = torch.optim.Adam(critic.parameters(), lr=lr)
    n = len(x_train)
    best, best_epoch, best_state, history = -math.inf, 0, None, []
    bar = tqdm(range(1, epochs + 1), desc=description, disable=not progress, leave=False)
    for epoch in bar:
        critic.train()
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - batch_size + 1, batch_size):
            index = order[start:start + batch_size]
            loss = step(x_train[index], y_train[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        critic.eval()
        value = evaluate()
        history.append(value / _LN2)
        if value > best:
            best, best_epoch, best_state = value, epoch, copy.deepcopy(critic.state_dict())
        bar.set_postfix(heldout_bits=f"{value / _LN2:.3f}", best=f"{best / _LN2:.3f}")
        if epoch - best_epoch >= patience:
            break
    bar.close()
    critic.load_state_dict(best_state)
    critic.eval()
    return best_epoch, len(history), tuple(history)


def _seeded_critic(make, *, seed: int, device):
    """A critic built under ``seed`` (the caller's torch random state is left alone), on
    ``device``, and the generator that orders its training batches."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        critic = make()
    return critic.to(device), torch.Generator().manual_seed(seed)


def _run_extras(*, batch_size, epochs_run, best_epoch, history, n_train, n_holdout,
                n_eval_rounds, n_bootstrap, start, **more) -> dict:
    """The ``extras`` both neural estimators report: how they were trained and evaluated."""
    return {"batch_size": batch_size, "epochs": epochs_run, "best_epoch": best_epoch,
            "history": history, "n_train": n_train, "n_holdout": n_holdout,
            "n_eval_rounds": n_eval_rounds, "n_bootstrap": n_bootstrap, **more,
            "seconds": time.perf_counter() - start}


# --------------------------------------------------------------------------- estimators


def infonce_mi(x, y, *, batch_size: int = 128, epochs: int = 300, hidden: int = 64,
               embedding: int = 32, lr: float = 1e-3, patience: int = 20,
               holdout: float = 0.3, n_eval_rounds: int = 20, n_bootstrap: int = 1000,
               confidence: float = 0.95, seed: int = 0, device: str = "cpu",
               progress: bool = False, scaling: str = "standard") -> MIEstimate:
    """InfoNCE lower bound on ``I(X; Y)`` in bits, with a separable critic.

    Parameters
    ----------
    x, y : array_like, shape (n, d_x) and (n, d_y)
        Paired samples (a torch tensor is accepted); 1-D inputs are read as one dimension.
    batch_size : int
        K, the number of pairs per batch, in training and evaluation. The estimate can
        never exceed ``log2 K`` bits.
    epochs, patience : int
        At most ``epochs`` passes over the training part; stop after ``patience`` epochs
        without a better held-out bound.
    hidden, embedding : int
        Width of the two hidden layers of ``g`` and ``h``, and of their output.
    lr : float
        Adam learning rate.
    holdout : float
        Fraction of the sample held out for early stopping and the estimate; both parts
        need at least ``batch_size`` points.
    n_eval_rounds : int
        Random batchings of the held-out part averaged for the estimate.
    n_bootstrap : int
        Resamples of the held-out points for the interval (0 = none).
    confidence : float
        Level of the interval.
    seed : int
        Seed of the split, the initialization and the batch order; the result is
        deterministic given the seed (on CPU).
    device : str
        Torch device.
    progress : bool
        Show a tqdm bar over epochs.
    scaling : {"standard", "rank"}
        How each input coordinate is rescaled: mean and standard deviation of the training
        part (default), or :func:`normal_scores`, which leaves the MI unchanged and bounds
        every value whatever the tails. Each row term of the bound is capped at ``log K``,
        so one far-out point moves only its own term, and the default is usually accurate
        under heavy tails; but on a Gaussian pair mapped to Cauchy marginals (truth 0.223
        nats) it gave 0.17 to 0.24 nats on four seeds and -0.02 on a fifth, where
        ``"rank"`` gave 0.19 to 0.24 on all five. Prefer ``"rank"`` for heavy tails.

    Returns
    -------
    MIEstimate
        ``ceiling = log2 K``; ``extras``: ``batch_size``, ``epochs`` (run), ``best_epoch``,
        ``history`` (held-out bound in bits after each epoch), ``n_train``, ``n_holdout``,
        ``seconds``.

    Raises
    ------
    ValueError
        Mismatched sample counts, NaN or infinite values, too few samples for the batch
        size, or bad settings.
    """
    _check_settings(batch_size=batch_size, epochs=epochs, hidden=hidden, lr=lr,
                    patience=patience, holdout=holdout, n_eval_rounds=n_eval_rounds,
                    n_bootstrap=n_bootstrap, confidence=confidence)
    check_count(embedding, name="embedding")
    start = time.perf_counter()
    (x_train, x_held), (y_train, y_held), n = _prepare(x, y, batch_size=batch_size,
                                                       holdout=holdout, seed=seed,
                                                       device=device, scaling=scaling)
    critic, generator = _seeded_critic(
        lambda: _SeparableCritic(x_train.shape[1], y_train.shape[1], hidden, embedding),
        seed=seed, device=device)

    def step(xb, yb):
        scores = critic(xb, yb)
        return -(torch.diagonal(scores).mean() - torch.logsumexp(scores, dim=1).mean())

    def evaluate():  # the same few batchings every epoch, so epochs are compared fairly
        fixed = torch.Generator().manual_seed(seed + 1)
        return float(np.mean(_infonce_row_terms(critic, x_held, y_held, batch_size, 2, fixed)))

    best_epoch, epochs_run, history = _train(
        critic, step, evaluate, x_train, y_train, batch_size=batch_size, epochs=epochs, lr=lr,
        patience=patience, generator=generator, progress=progress, description="InfoNCE")
    terms = _infonce_row_terms(critic, x_held, y_held, batch_size, n_eval_rounds,
                               torch.Generator().manual_seed(seed + 2)) / _LN2
    estimate = float(terms.mean())
    ceiling = math.log2(batch_size)
    low = high = estimate
    if n_bootstrap:
        rng = np.random.default_rng([seed, 0xB007])
        means = terms[rng.integers(0, len(terms), size=(n_bootstrap, len(terms)))].mean(axis=1)
        low, high = _interval(means, confidence)
    extras = _run_extras(batch_size=batch_size, epochs_run=epochs_run, best_epoch=best_epoch,
                         history=history, n_train=len(x_train), n_holdout=len(x_held),
                         n_eval_rounds=n_eval_rounds, n_bootstrap=n_bootstrap, start=start)
    return MIEstimate(estimate, low, min(high, ceiling), ceiling, "infonce", n, confidence,
                      extras)


def mine_mi(x, y, *, batch_size: int = 128, epochs: int = 300, hidden: int = 64,
            lr: float = 1e-3, ema_rate: float = 0.01, patience: int = 20,
            holdout: float = 0.3, n_eval_rounds: int = 20, n_bootstrap: int = 1000,
            confidence: float = 0.95, seed: int = 0, device: str = "cpu",
            progress: bool = False, scaling: str = "rank") -> MIEstimate:
    """MINE: the Donsker-Varadhan estimate of ``I(X; Y)`` in bits, with a joint critic.

    It is *not* a lower bound, although the Donsker-Varadhan bound it is built on is one.
    For a fixed critic ``T``, ``I >= E_P[T] - log E_Q[e^T]``; the estimate replaces
    ``log E_Q[e^T]`` by the log of a sample mean, and since the log is concave, the log of
    a mean is on average *below* the log of the expectation (Jensen). So the finite-sample
    estimate is biased upward (Poole et al., 2019), can exceed the true MI, and has no
    ceiling; read it as an estimate with an unknown bias, never as a guaranteed "at least".

    Parameters
    ----------
    x, y : array_like, shape (n, d_x) and (n, d_y)
        Paired samples (a torch tensor is accepted); 1-D inputs are read as one dimension.
    batch_size : int
        Pairs per training batch; the product-of-marginals samples are the same batch with
        ``y`` shuffled (never paired with its own ``x``).
    epochs, patience, hidden, lr, holdout, n_bootstrap, confidence, seed, device, progress
        As in :func:`infonce_mi`.
    ema_rate : float
        Rate of the moving average of ``E_Q[e^T]`` that replaces the denominator of the
        gradient of ``log E_Q[e^T]`` (MINE's bias correction), kept in the log domain.
    n_eval_rounds : int
        Shuffled pairings of the held-out part for the ``E_Q`` term.
    scaling : {"rank", "standard"}
        How each input coordinate is rescaled (see :func:`infonce_mi`). The default,
        ``"rank"`` (:func:`normal_scores`), leaves the MI unchanged and makes the estimate
        the same for any strictly increasing map of each coordinate; ``"standard"`` is the
        mean and standard deviation of the training part.

    Returns
    -------
    MIEstimate
        ``ceiling = inf``; ``extras`` as for :func:`infonce_mi`, plus ``ema_rate`` and
        ``scaling``.

    Notes
    -----
    Why ranks. ``log E_Q[e^T]`` is a log-mean-exp over shuffled pairs, so the *largest*
    critic value decides it, and a ReLU critic grows linearly far from the data it was
    trained on. With heavy tails, mean and standard deviation are set by a few extreme
    values: the bulk is squashed near 0, where the critic resolves little (an underestimate),
    and a held-out point far out gives one shuffled pair a huge ``T`` that drags the
    estimate far below zero. On a Gaussian pair with rho = 0.6 mapped to Cauchy marginals
    (truth 0.223 nats), standard scaling gave 0.03 to 0.09 nats on four seeds of five, and
    -6.7 nats on the fifth; a median and interquartile-range scaling was worse (-2.2 to
    -0.04 nats on four seeds: the far points stay far). Normal scores bound every input by
    about 3.5 and give on the Cauchy pair exactly what they give on the Gaussian one (0.18
    to 0.23 nats on the five seeds).

    The bound is not capped by the batch size, but the log-mean-exp is dominated by a few
    large ``e^T`` when the MI is large: expect a wide interval there.

    Raises
    ------
    ValueError
        Mismatched sample counts, NaN or infinite values, too few samples for the batch
        size, or bad settings.
    """
    _check_settings(batch_size=batch_size, epochs=epochs, hidden=hidden, lr=lr,
                    patience=patience, holdout=holdout, n_eval_rounds=n_eval_rounds,
                    n_bootstrap=n_bootstrap, confidence=confidence)
    check_real(ema_rate, name="ema_rate", low=0.0, high=1.0, include_low=False)
    start = time.perf_counter()
    (x_train, x_held), (y_train, y_held), n = _prepare(x, y, batch_size=batch_size,
                                                       holdout=holdout, seed=seed,
                                                       device=device, scaling=scaling)
    critic, generator = _seeded_critic(
        lambda: _JointCritic(x_train.shape[1], y_train.shape[1], hidden), seed=seed,
        device=device)
    log_ema = [None]  # log of the moving average of E_Q[e^T]
    log_rate, log_keep = math.log(ema_rate), math.log1p(-ema_rate) if ema_rate < 1 else -math.inf

    def step(xb, yb):
        i, j = _shifted_pairs(len(xb), generator)
        joint = critic(xb, yb)
        marginal = critic(xb[i], yb[j])
        log_mean_exp = torch.logsumexp(marginal, dim=0) - math.log(len(marginal))
        current = log_mean_exp.detach()
        if log_ema[0] is None:
            log_ema[0] = current
        else:
            log_ema[0] = torch.logaddexp(log_keep + log_ema[0], log_rate + current)
        # d/dtheta of E_Q[e^T] / ema is E_Q[e^T grad T] / ema: the gradient of log E_Q[e^T]
        # with the minibatch denominator replaced by the moving average.
        return -(joint.mean() - torch.exp(log_mean_exp - log_ema[0]))

    def evaluate():
        fixed = torch.Generator().manual_seed(seed + 1)
        joint, marginal = _dv_terms(critic, x_held, y_held, 2, fixed)
        return float(_dv_nats(joint, marginal))

    best_epoch, epochs_run, history = _train(
        critic, step, evaluate, x_train, y_train, batch_size=batch_size, epochs=epochs, lr=lr,
        patience=patience, generator=generator, progress=progress, description="MINE")
    joint, marginal = _dv_terms(critic, x_held, y_held, n_eval_rounds,
                                torch.Generator().manual_seed(seed + 2))
    estimate = float(_dv_nats(joint, marginal)) / _LN2
    low = high = estimate
    if n_bootstrap:
        rng = np.random.default_rng([seed, 0xB007])
        m = len(joint)
        values = np.empty(n_bootstrap)
        block = max(1, 2_000_000 // marginal.size)
        for first in range(0, n_bootstrap, block):
            rows = rng.integers(0, m, size=(min(block, n_bootstrap - first), m))
            values[first:first + len(rows)] = _dv_nats(joint[rows], marginal[rows]) / _LN2
        low, high = _interval(values, confidence)
    extras = _run_extras(batch_size=batch_size, epochs_run=epochs_run, best_epoch=best_epoch,
                         history=history, n_train=len(x_train), n_holdout=len(x_held),
                         n_eval_rounds=n_eval_rounds, n_bootstrap=n_bootstrap, start=start,
                         ema_rate=float(ema_rate), scaling=scaling)
    return MIEstimate(estimate, low, high, math.inf, "mine", n, confidence, extras)
