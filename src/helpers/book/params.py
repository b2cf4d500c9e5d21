"""Build profiles and validated notebook parameters.

Every chapter has a papermill ``parameters`` cell whose values may be ``None``, meaning "take
the profile's value". :func:`resolve_parameters` merges the two, checks every value, and
turns papermill's command-line strings (``-p bits "[1, 2, 3]"``) into Python values, so a bad
parameter stops the chapter at once with a message that says how to fix it.

Introduced in the chapter "Numerical entropy" (``notebooks/01_numerical_entropy``).
"""

from __future__ import annotations

import ast
import copy
import numbers
import os

from helpers._validation import check_bits_list, check_count
from helpers.measure.stored import STORES

#: The three build profiles. ``smoke``: tiny sizes for CI; ``default``: embedded offline data;
#: ``full``: MNIST, CIFAR-10 and AG News from the data directory.
PROFILES = ("smoke", "default", "full")


#: Measurement settings that several chapters must share, per profile. ``curvature``: the
#: chapter "Curvature threshold" measures every network's curvature with these, and the
#: chapter "Lipschitz regularization" asks for the same measurements, so that it finds them
#: in the cache instead of computing them again.
SHARED_SETTINGS = {
    "curvature": {
        "smoke": dict(n_points=12, n_directions=2, steps=[0.01, 0.1], main_step=0.01),
        "default": dict(n_points=100, n_directions=4, steps=[0.001, 0.01, 0.1], main_step=0.01),
        "full": dict(n_points=200, n_directions=4, steps=[0.001, 0.01, 0.1], main_step=0.01),
    },
}


class ParameterError(ValueError):
    """A notebook parameter has a value the chapter cannot use."""


#: The environment variable in which the build tells a chapter's kernel which chapter it
#: runs, so that :func:`resolve_parameters` applies that chapter's rules (:func:`chapter_rules`).
CHAPTER_VARIABLE = "HELPERS_CHAPTER"

#: Every chapter's parameters, kept here as data so that the build can check each ``--param``
#: before anything runs (:func:`check_parameter`) and the chapter reads the very same table
#: (:func:`chapter_config`): keyed by the chapter's file stem, ``profiles`` gives each
#: parameter's value per profile (the names of the chapter's ``parameters`` cell, ``seed``
#: aside) and ``rules`` the checks beyond the conventions by name (``bits``, ``*_bits``,
#: ``seed``, ``n_*``). A rule is ``{"one_of": [...]}`` (``"@datasets"`` stands for every
#: dataset of :data:`helpers.data.DATASETS`, ``"@formats"`` for every number format of
#: :data:`helpers.measure.formats.FORMATS`), ``{"subset_of": [...]}`` for a list of such
#: names or ``{"low": a, "high": b}`` for a number in
#: ``[a, b)``. Built on first use, since the model list comes from :mod:`helpers.nets.suite`.
_CHAPTER_PARAMETERS: dict | None = None


def _chapter_parameters() -> dict:
    global _CHAPTER_PARAMETERS
    if _CHAPTER_PARAMETERS is not None:
        return _CHAPTER_PARAMETERS
    from helpers.nets.suite import DISPLAY_NAMES

    models = list(DISPLAY_NAMES)
    per_model = {"one_of": ["per model", "@datasets"]}
    curvature = {profile: profile_settings("curvature", profile) for profile in PROFILES}
    sizes4 = dict(n_analysis=500, n_probe_train=2000, n_bootstrap=1000, quantile=0.9,
                  dataset="per model", models=models)
    common5 = dict(models=models, dataset="per model", coarse_p=1.0, monitor_bits=[0.5, 1, 2])
    large5 = dict(pca_dims=[2, 4, 8, 16, 32], budgets=[16, 32, 64, 256, 1024], **common5)
    common6 = dict(models=models, dataset="per model", truth_dims=[1, 2, 8, 32])
    common10 = dict(models=models, dataset="per model", formats=_formats(),
                    stores=list(STORES), n_neighbours=10)
    example = dict(representation_path="the book's example", dataset="per model",
                   normalization="global")
    _CHAPTER_PARAMETERS = {
        "01_numerical_entropy": dict(
            profiles={
                "smoke": dict(bits=[1, 2, 4], dataset="digits", n_samples=300, n_train=400,
                              n_test=200, n_seeds=2),
                "default": dict(bits=[0.5, 1, 1.5, 2, 3, 4, 5, 6, 8], dataset="digits",
                                n_samples=2000, n_train=1297, n_test=500, n_seeds=5),
                "full": dict(bits=[0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 12, 16], dataset="mnist",
                             n_samples=5000, n_train=10000, n_test=5000, n_seeds=3)},
            rules={"dataset": {"one_of": ["digits", "mnist5k", "mnist"]}}),
        "03_greedy_covering": dict(
            profiles={
                "smoke": dict(sample_sizes=[200, 600], dim=16, n_eps=8, n_orders=3,
                              n_order_points=300, n_draws=2, n_shape_points=300,
                              bits=[1, 2, 3, 4], dataset="clustered", n_tiny_sets=24,
                              n_tiny_points=8, reference_work=2),
                "default": dict(sample_sizes=[1000, 3000, 10000, 30000], dim=64, n_eps=16,
                                n_orders=10, n_order_points=3000, n_draws=2,
                                n_shape_points=2000,
                                bits=[1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6],
                                dataset="clustered", n_tiny_sets=600, n_tiny_points=12,
                                reference_work=100),
                "full": dict(sample_sizes=[1000, 3000, 10000, 30000, 100000], dim=128,
                             n_eps=24, n_orders=20, n_order_points=5000, n_draws=3,
                             n_shape_points=5000,
                             bits=[1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7],
                             dataset="clustered", n_tiny_sets=3000, n_tiny_points=14,
                             reference_work=1000)},
            rules={"dataset": {"one_of": ["clustered"]}}),
        "04_curvature_threshold": dict(
            profiles={
                "smoke": dict(bits=[0.5, 1, 2, 4], **curvature["smoke"],
                              **{**sizes4, "n_analysis": 100, "n_probe_train": 300,
                                 "n_bootstrap": 200}),
                "default": dict(bits=[0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8],
                                **curvature["default"], **sizes4),
                "full": dict(bits=[0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 12, 16],
                             **curvature["full"],
                             **{**sizes4, "n_analysis": 5000, "n_probe_train": 10000})},
            rules={"dataset": per_model, "quantile": {"low": 0.5, "high": 1.0}}),
        "05_lipschitz_regularization": dict(
            profiles={
                "smoke": dict(bits=[0.5, 1, 2, 4, 8], n_seeds=2, n_analysis=100,
                              n_probe_train=300, n_bootstrap=30, n_lipschitz_points=20,
                              pca_dims=[2, 8], budgets=[8, 32, 256, 1024], **common5),
                "default": dict(bits=[0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8], n_seeds=3,
                                n_analysis=500, n_probe_train=2000, n_bootstrap=200,
                                n_lipschitz_points=100, **large5),
                "full": dict(bits=[0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 12, 16], n_seeds=1,
                             n_analysis=2000, n_probe_train=10000, n_bootstrap=100,
                             n_lipschitz_points=200, **large5)},
            rules={"dataset": per_model}),
        "06_mi_comparison": dict(
            profiles={
                "smoke": dict(bits=[0.5, 1, 2, 4, 8], neural_bits=[1, 2, 4, 8], n_analysis=100,
                              n_probe_train=300, n_bootstrap=30, n_truth=300,
                              neural_truth_dims=[1], n_batch=16, n_epochs=3, n_sign_draws=100,
                              **common6),
                "default": dict(bits=[0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8],
                                neural_bits=[0.5, 1, 2, 4, 8], n_analysis=500,
                                n_probe_train=2000, n_bootstrap=200, n_truth=2000,
                                neural_truth_dims=[1, 2, 8, 32], n_batch=128, n_epochs=150,
                                n_sign_draws=1000, **common6),
                "full": dict(bits=[0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 12, 16],
                             neural_bits=[0.25, 0.5, 1, 2, 4, 8, 16], n_analysis=2000,
                             n_probe_train=10000, n_bootstrap=200, n_truth=5000,
                             neural_truth_dims=[1, 2, 8, 32], n_batch=256, n_epochs=300,
                             n_sign_draws=2000, **common6)},
            rules={"dataset": per_model}),
        "10_number_formats": dict(
            profiles={
                "smoke": dict(bits=[0.5, 1, 2, 4, 8, 16], n_analysis=100, n_probe_train=300,
                              n_bootstrap=30, **common10),
                "default": dict(bits=[0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16], n_analysis=500,
                                n_probe_train=2000, n_bootstrap=200, **common10),
                "full": dict(bits=[0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16], n_analysis=2000,
                             n_probe_train=10000, n_bootstrap=200, **common10)},
            rules={"dataset": per_model, "formats": {"subset_of": ["@formats"]},
                   "stores": {"subset_of": list(STORES)}}),
        "09_your_own_representation": dict(
            profiles={
                "smoke": dict(bits=[1, 2, 4], n_bootstrap=50, formats=["int8", "pq1"],
                              **example),
                "default": dict(bits=[1, 2, 3, 4, 6, 8], n_bootstrap=200,
                                formats=["fp8_e4m3", "int8_channel", "mxfp4", "binary", "pq1"],
                                **example),
                "full": dict(bits=[1, 2, 3, 4, 6, 8, 12], n_bootstrap=200,
                             formats=["fp8_e4m3", "int8_channel", "mxfp4", "binary", "pq1"],
                             **example)},
            # helpers.capacity.NORMALIZATIONS, which this layer may not import (a test compares)
            rules={"dataset": {"one_of": ["per model", "digits", "mnist5k", "mnist", "cifar10"]},
                   "normalization": {"one_of": ["global", "per-coordinate"]},
                   "formats": {"subset_of": ["@formats", *STORES]}}),
    }
    for legacy, rules in _RULES_ONLY.items():
        _CHAPTER_PARAMETERS.setdefault(legacy, dict(profiles=None, rules=rules))
    return _CHAPTER_PARAMETERS


#: Chapters whose profile table still lives in the chapter: only their rules are here.
_RULES_ONLY = {
    "02_precision_lower_bound": {"dataset": {"one_of": [
        "per model", "digits", "mnist5k", "mnist", "cifar10", "topics", "ag_news"]}},
}


def _formats() -> list:
    from helpers.measure.formats import FORMATS

    return list(FORMATS)


def _named_values(entry) -> list:
    """Expand the ``@name`` entries of a ``one_of`` rule into the package's lists."""
    if entry == "@datasets":
        from helpers.data import DATASETS

        return list(DATASETS)
    if entry == "@formats":
        return _formats()
    return [entry]


def _apply_rule(name: str, value, rule: dict, chapter: str):
    """Check one value against one entry of rules (:func:`chapter_rules`); return it unchanged."""
    if "one_of" in rule:
        allowed = [item for entry in rule["one_of"] for item in _named_values(entry)]
        if not isinstance(value, str) or value not in allowed:
            raise ParameterError(f"parameter {name}={value!r} is not one of {allowed} "
                                 f"(chapter {chapter}); pick one of those.")
    if "subset_of" in rule:
        allowed = [item for entry in rule["subset_of"] for item in _named_values(entry)]
        if (not isinstance(value, list | tuple) or not value
                or any(not isinstance(item, str) or item not in allowed for item in value)):
            raise ParameterError(f"parameter {name}={value!r} must be a non-empty list of "
                                 f"names among {allowed} (chapter {chapter}).")
    if "low" in rule or "high" in rule:
        low, high = rule.get("low", float("-inf")), rule.get("high", float("inf"))
        if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                or not low <= value < high):
            raise ParameterError(f"parameter {name}={value!r} must be a number in "
                                 f"[{low}, {high}) (chapter {chapter}).")
    return value


def chapter_rules(chapter: str | None) -> dict:
    """The parameter rules of a chapter (given by file stem), ``{}`` for none."""
    return _chapter_parameters().get(chapter or "", {}).get("rules", {})


def chapter_profiles(chapter: str) -> dict:
    """``{profile: {name: value}}``: a chapter's parameter values per profile.

    Raises
    ------
    ParameterError
        For a chapter with no table here.
    """
    table = _chapter_parameters().get(chapter, {}).get("profiles")
    if table is None:
        raise ParameterError(f"no parameter table for chapter {chapter!r}; add one to "
                             "helpers.book.params (see CONTRIBUTING.md).")
    return copy.deepcopy(table)


def chapter_config(chapter: str, namespace: dict) -> dict:
    """A chapter's validated parameters, from its parameters cell and its profile table.

    Introduced in the chapter "Numerical entropy". A chapter calls
    ``chapter_config("01_numerical_entropy", globals())`` right after its ``parameters``
    cell: ``profile`` and every name of the chapter's table (and ``seed``) are read from
    ``namespace``, where ``None`` means "the profile's value", and checked by
    :func:`resolve_parameters` with the chapter's rules.

    Returns
    -------
    dict
        Every parameter, validated, with ``profile`` included.
    """
    profiles = chapter_profiles(chapter)
    names = set().union(*(set(values) for values in profiles.values())) | {"seed"}
    given = {name: namespace.get(name) for name in sorted(names)}
    return resolve_parameters(namespace.get("profile", "default"), given, profiles,
                              chapter=chapter)


def check_parameter(name: str, value, *, chapter: str | None = None):
    """Check one parameter value as the chapter will, without running the chapter.

    Used by the build on every ``--param NAME=VALUE`` before anything runs: the value is read
    as papermill hands it to the chapter (a string such as ``"[1, 2]"``), checked by the
    conventions of its name and by the chapter's rules (:func:`chapter_rules`), and returned as the
    Python value the chapter will see. Introduced in the book's README (the build).

    Raises
    ------
    ParameterError
        For a value the chapter would refuse; the message names the parameter and the fix.
    """
    if name == "profile":
        if value not in PROFILES:
            raise ParameterError(f"profile={value!r} is unknown; use one of {PROFILES}.")
        return value
    checked = _check_one(name, value, {})
    rule = chapter_rules(chapter).get(name)
    return checked if rule is None else _apply_rule(name, checked, rule, chapter)


def profile_settings(name: str, profile: str) -> dict:
    """A copy of the shared settings ``name`` (a key of :data:`SHARED_SETTINGS`) for a profile.

    Introduced in the chapter "Curvature threshold"; every chapter that uses these settings
    reads them from here, so that they cannot drift apart.

    Raises
    ------
    ParameterError
        For an unknown name or profile.
    """
    if name not in SHARED_SETTINGS:
        raise ParameterError(f"no shared settings called {name!r}; there are "
                             f"{sorted(SHARED_SETTINGS)}.")
    if profile not in PROFILES:
        raise ParameterError(f"profile={profile!r} is unknown; use one of {PROFILES}.")
    return copy.deepcopy(SHARED_SETTINGS[name][profile])


def _literal(name: str, value):
    """Parse a papermill string such as ``"[1, 2, 3]"``; leave other values as they are."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text[:1] in "[(0123456789.-" or text in ("None", "True", "False"):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError) as error:
            raise ParameterError(
                f"parameter {name}={value!r} is not a valid Python literal ({error}). "
                f'Write lists as -p {name} "[1, 2, 3]" on the papermill command line.'
            ) from error
    return value


def parse_bits(value, *, name: str = "bits") -> list[float]:
    """Precisions from a number, a list, or a papermill string such as ``"[1, 2, 3]"``.

    The list follows the book's one rule, :func:`helpers._validation.check_bits_list`: every
    entry in the supported range, no repeats, returned sorted ascending.

    Raises
    ------
    ParameterError
        If the list is empty, repeats a precision, or holds an entry that is not a number in
        the supported range (> 0).
    """
    value = _literal(name, value)
    try:
        return check_bits_list(value, name=name)
    except ValueError as error:
        raise ParameterError(f"parameter {name}: {error} For example -p {name} "
                             '"[1, 2, 3]".') from error


def parse_bits_option(values, *, option: str = "--bits") -> list[float] | None:
    """Precisions from a command line's ``--bits 3 5 7`` strings, sorted ascending.

    Shared by ``python -m helpers.book.build rerun`` and ``python -m helpers.capacity``; only
    the reading of text is done here, the list itself follows
    :func:`helpers._validation.check_bits_list` as everywhere else. ``None`` (the option was
    not given) is returned unchanged.

    Raises
    ------
    ParameterError
        For an empty list, a value that is not a number, a repeat, or a value outside the
        supported range.
    """
    if values is None:
        return None
    numbers_given = []
    for text in values:
        try:
            numbers_given.append(float(text))
        except (TypeError, ValueError):
            raise ParameterError(f"{option} takes numbers of bits, got {text!r}; e.g. "
                                 f"{option} 1 2.5 4.") from None
    try:
        return check_bits_list([_tidy_number(v) for v in numbers_given], name=option)
    except ValueError as error:
        raise ParameterError(f"{error} For example: {option} 3 5 7.") from None


def _tidy_number(value: float):
    return int(value) if value.is_integer() else value


def _positive_int(name: str, value) -> int:
    try:
        return check_count(_literal(name, value), name=f"parameter {name}")
    except ValueError as error:
        raise ParameterError(str(error)) from None


def _seed(name: str, value) -> int:
    try:
        return check_count(_literal(name, value), name=f"parameter {name}", minimum=0)
    except ValueError as error:
        raise ParameterError(str(error)) from None


def _check_one(name: str, value, choices: dict):
    """Validate one parameter by its name's convention."""
    if name in choices:
        allowed = choices[name]
        if value not in allowed:
            raise ParameterError(
                f"parameter {name}={value!r} is not one of {sorted(allowed)}; pick one of those."
            )
        return value
    if name == "bits" or name.endswith("_bits"):
        return parse_bits(value, name=name)
    if name == "seed" or name.endswith("_seed"):
        return _seed(name, value)
    if name.startswith("n_"):
        return _positive_int(name, value)
    return _literal(name, value)


def resolve_parameters(profile: str, given: dict, profiles: dict, *, choices: dict | None = None,
                       chapter: str | None = None):
    """Merge a chapter's parameters with its profile table and validate every value.

    Parameters
    ----------
    profile : {"smoke", "default", "full"}
        The build profile.
    given : dict
        The values from the parameters cell; ``None`` means "use the profile's value".
    profiles : dict
        ``{profile: {name: value}}``: the chapter's sizes for each profile.
    choices : dict, optional
        ``{name: allowed values}`` for parameters with a fixed set of values (such as the
        dataset).
    chapter : str, optional
        The chapter's file stem, whose rules (:func:`chapter_rules`) apply as well; by default the
        one the build names in ``$HELPERS_CHAPTER``. The build checks ``--param`` values
        against the same rules before it runs anything (:func:`check_parameter`).

    Returns
    -------
    dict
        Every parameter, validated, with ``profile`` included. Conventions by name: ``bits``
        and ``*_bits`` are lists of precisions > 0; ``seed`` is an int >= 0; ``n_*`` are
        positive ints.

    Raises
    ------
    ParameterError
        For an unknown profile, a parameter the chapter does not have, or a bad value.
    """
    if profile not in PROFILES:
        raise ParameterError(f"profile={profile!r} is unknown; use one of {PROFILES}.")
    missing = [name for name in PROFILES if name not in profiles]
    if missing:
        raise ParameterError(f"the chapter's profile table lacks {missing}.")
    table = profiles[profile]
    unknown = sorted(set(given) - set(table) - {"seed"})
    if unknown:
        raise ParameterError(
            f"parameters {unknown} are not used by this chapter; its parameters are "
            f"{sorted(set(table) | {'seed'})}."
        )
    choices = choices or {}
    resolved = {"profile": profile}
    for name in sorted(set(table) | set(given)):
        value = given.get(name)
        if value is None:
            value = table.get(name)
        if value is None:
            raise ParameterError(f"parameter {name} has no value in profile {profile!r}.")
        resolved[name] = _check_one(name, value, choices)
    chapter = chapter or os.environ.get(CHAPTER_VARIABLE)
    for name, rule in chapter_rules(chapter).items():
        if name in resolved:
            _apply_rule(name, resolved[name], rule, chapter)
    return resolved
