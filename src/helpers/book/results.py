"""Numbers that appear in the book's prose, and the per-chapter JSON results file.

Every number a chapter states is computed in a cell and *glued* (myst-nb ``glue``) into the
text; :class:`ChapterResults` glues it and records it in ``<results_dir>/<chapter>.json``
together with the parameters, seed, profile, dataset and helper version, so that the
concluding claims ledger can read every chapter's key results.

Introduced in the chapter "Numerical entropy" (``notebooks/01_numerical_entropy``).
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from pathlib import Path

from helpers import __version__
from helpers._io import write_json_atomic
from helpers._settings import results_dir as _default_results_dir
from helpers._validation import is_number

try:  # myst-nb is present in the build; in a bare kernel glue falls back to printing
    from myst_nb import glue as _myst_glue
except ImportError:  # pragma: no cover - exercised only outside the book environment
    _myst_glue = None


class _GluedText(str):
    """Text glued into prose: its repr is the text itself, so the page shows no quotes."""

    def __repr__(self) -> str:
        return str(self)


def _plain(value):
    """Convert numpy scalars and arrays to JSON-friendly Python values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


class ChapterResults:
    """Collect, glue and save a chapter's key results.

    Parameters
    ----------
    chapter : str
        Short chapter name, used as the file name (``numerical_entropy``).
    parameters : dict
        The resolved parameters (see :func:`helpers.book.params.resolve_parameters`).
    results_dir : path, optional
        Where the JSON file goes; default :func:`helpers._settings.results_dir`.
    """

    def __init__(self, chapter: str, parameters: dict, *, results_dir=None):
        if not chapter or not chapter.replace("_", "").isalnum():
            raise ValueError(
                f"chapter must be a short identifier like 'numerical_entropy', got {chapter!r}."
            )
        self.chapter = chapter
        self.parameters = dict(parameters)
        self.path = Path(_default_results_dir(results_dir)) / f"{chapter}.json"
        self.values: dict[str, dict] = {}

    def record(self, name: str, value, *, interval=None, note: str | None = None):
        """Store ``value`` (with an optional ``(low, high)`` interval) in the results file."""
        entry = {"value": _plain(value)}
        if interval is not None:
            low, high = interval
            entry["interval"] = [_plain(low), _plain(high)]
        if note:
            entry["note"] = note
        self.values[name] = entry
        return value

    def glue(self, name: str, value, *, fmt: str | None = None, interval=None, note=None):
        """Record ``value`` and glue it under ``name`` for ``{glue:text}`` roles in the prose.

        With ``fmt`` the value is also glued, formatted, under ``name`` (so the prose can use
        ``{glue:}`name```), which keeps the formatting next to the computation.
        """
        self.record(name, value, interval=interval, note=note)
        shown = format(value, fmt) if fmt else value
        if isinstance(shown, str):
            shown = _GluedText(shown)
        if _myst_glue is not None:
            _myst_glue(name, shown, display=False)
        else:  # pragma: no cover
            print(f"{name} = {shown}")
        return value

    def record_values(self, values: dict) -> dict:
        """Record every ``name: value`` pair of a mapping, as :meth:`record`; return it.

        Introduced in the chapter "Lipschitz regularization", which records the numbers and
        verdicts the claims ledger reads in one place.
        """
        for name, value in values.items():
            self.record(name, value)
        return values

    def glue_texts(self, texts: dict):
        """Glue every ``name: text`` pair of a mapping (phrases built by a helper).

        Returns nothing, so that a cell ending with it shows no output on the page."""
        for name, text in texts.items():
            if not isinstance(text, str):
                raise TypeError(f"glue_texts takes texts; {name!r} is {type(text).__name__}.")
            self.glue(name, text)

    def glue_values(self, values: dict):
        """Glue every ``name: value`` or ``name: (value, fmt)`` pair of a mapping (figures
        and phrases built by a helper); values are recorded unformatted, as :meth:`glue`.

        Returns nothing, so that a cell ending with it shows no output on the page."""
        for name, item in values.items():
            if isinstance(item, tuple) and (len(item) != 2 or not isinstance(item[1], str)):
                raise TypeError(f"glue_values takes value or (value, format) pairs; {name!r} is "
                                f"{item!r}.")
            value, fmt = item if isinstance(item, tuple) else (item, None)
            self.glue(name, value, fmt=fmt)

    def glue_interval(self, name: str, value, low, high, *, fmt: str = ".3f"):
        """Glue ``value [low, high]`` as text under ``name`` and record all three."""
        self.record(name, value, interval=(low, high))
        text = f"{format(value, fmt)} [{format(low, fmt)}, {format(high, fmt)}]"
        if _myst_glue is not None:
            _myst_glue(name, _GluedText(text), display=False)
        return value

    def record_table(self, name: str, frame):
        """Record a pandas table under ``name`` (as :func:`plain_columns`) and return it.

        Introduced in the chapter "Lipschitz regularization", whose cells end by recording
        the table they show: ``results.record_table("bound_table", table).round(3)``.
        """
        self.record(name, plain_columns(frame))
        return frame

    def glue_figure(self, name: str, figure, *, close: bool = False):
        """Glue a matplotlib figure for a ``{glue:figure}`` directive (with caption).

        With ``close=True`` the figure is closed once glued (the glue keeps its image), so
        that the notebook does not also show it where it was drawn; the chapter "MI
        comparison" introduced the option. A closed figure is then of no further use, and
        ``None`` is returned, so that a cell ending with this call prints nothing either.
        """
        if _myst_glue is not None:
            _myst_glue(name, figure, display=False)
        if close:
            import matplotlib.pyplot as plt

            plt.close(figure)
            return None
        return figure

    def save(self) -> Path:
        """Write the results file atomically and return its path."""
        payload = {
            "chapter": self.chapter,
            "helpers_version": __version__,
            "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "profile": self.parameters.get("profile"),
            "dataset": self.parameters.get("dataset"),
            "seed": self.parameters.get("seed"),
            "parameters": _plain(self.parameters),
            "results": self.values,
        }
        _reject_non_finite(payload["results"])
        return write_json_atomic(self.path, payload)


def plain_columns(frame) -> dict:
    """A pandas table as JSON-ready columns, with NaN and infinities written as ``None``.

    JSON has no NaN, and :meth:`ChapterResults.save` refuses non-finite numbers; in a table an
    empty cell is the honest record of "not defined here".
    """
    columns = {}
    for name, values in frame.to_dict(orient="list").items():
        columns[str(name)] = [None if is_number(v) and not math.isfinite(v) else _plain(v)
                              for v in values]
    return columns


def extent(values) -> list[float] | None:
    """``[min, max]`` of some numbers, the form a recorded range takes, or ``None`` for none.

    Introduced in the chapter "Lipschitz regularization": the claims ledger reads such ranges
    as numbers, and an empty set of measurements is recorded as ``None`` rather than left out.
    Entries that are not finite (NaN: not defined for that model) are ignored.

    Examples
    --------
    >>> extent([3, 1.5, 2])
    [1.5, 3.0]
    >>> extent([]) is None
    True
    """
    finite = [float(v) for v in values if math.isfinite(float(v))]
    return [min(finite), max(finite)] if finite else None


def _reject_non_finite(results: dict):
    """JSON has no NaN; a NaN result is a bug upstream, so say which one."""
    for name, entry in results.items():
        stack = [entry["value"], *entry.get("interval", [])]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, numbers.Real) and not math.isfinite(item):
                raise ValueError(f"result {name!r} is not finite ({item}); fix its computation.")
