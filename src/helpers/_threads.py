"""A context manager for the number of torch CPU threads, shared by the helpers that train,
differentiate or bound networks (chapters "Precision lower bound" and "Lipschitz
regularization")."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def torch_threads(num_threads: int | None):
    """Use ``num_threads`` torch CPU threads inside the block (None: leave as it is)."""
    import torch

    previous = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
