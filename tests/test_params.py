"""Notebook parameters: profile merging, papermill strings and clear errors."""

import re

import pytest

from helpers.book import params
from helpers.book.params import ParameterError, parse_bits, resolve_parameters

PROFILES = {
    "smoke": dict(bits=[1, 2], dataset="digits", n_samples=10),
    "default": dict(bits=[1, 2, 4], dataset="digits", n_samples=100),
    "full": dict(bits=[1, 2, 4, 8], dataset="mnist", n_samples=1000),
}
CHOICES = {"dataset": ["digits", "mnist"]}


def resolve(profile="default", **given):
    given.setdefault("seed", 0)
    return resolve_parameters(profile, given, PROFILES, choices=CHOICES)


def test_none_takes_the_profile_value_and_given_values_win():
    config = resolve("smoke", bits=None, n_samples=None)
    assert config == {"profile": "smoke", "bits": [1, 2], "dataset": "digits", "n_samples": 10,
                      "seed": 0}
    assert resolve("smoke", n_samples=7)["n_samples"] == 7


def test_papermill_list_strings_are_parsed():
    assert resolve(bits="[1, 2, 3]")["bits"] == [1, 2, 3]
    assert resolve(bits="[3, 0.5, 2]")["bits"] == [0.5, 2, 3]
    with pytest.raises(ParameterError, match="repeats the precision 3"):
        resolve(bits="[3, 0.5, 3]")
    assert resolve(bits=2)["bits"] == [2]
    assert resolve(n_samples="50")["n_samples"] == 50


@pytest.mark.parametrize("bad", ["[0, 1]", "[-1]", "[]", "[1, 'x']", "one", "[1, 2", "[99]"])
def test_bad_bits_name_the_parameter(bad):
    with pytest.raises(ParameterError, match="bits"):
        resolve(bits=bad)


def test_unknown_profile_dataset_and_parameter():
    with pytest.raises(ParameterError, match="profile"):
        resolve("huge")
    with pytest.raises(ParameterError, match="dataset='cifar'"):
        resolve(dataset="cifar")
    with pytest.raises(ParameterError, match="not used by this chapter"):
        resolve(n_epochs=3)


@pytest.mark.parametrize("name, bad", [("n_samples", 0), ("n_samples", 2.5), ("seed", -1),
                                       ("seed", "x")])
def test_counts_and_seeds_must_be_whole_numbers(name, bad):
    with pytest.raises(ParameterError, match=name):
        resolve(**{name: bad})


def test_parse_bits_sorts_and_refuses_repeats():
    assert parse_bits([4, 1, 1.5]) == [1, 1.5, 4]
    with pytest.raises(ParameterError, match="repeats the precision 4"):
        parse_bits([4, 1, 1.5, 4])


def test_parse_bits_option_sorts_like_the_parameters_and_names_bad_values():
    from helpers.book.params import parse_bits_option

    assert parse_bits_option(None) is None
    assert parse_bits_option(["3", "1", "2.5"]) == [1, 2.5, 3]
    for values, fragment in ((["0"], r"> 0 and <= 52"), (["inf"], "got inf"),
                             (["two"], "takes numbers of bits, got 'two'"),
                             (["2", "2.0"], "repeats the precision 2"),
                             ([], "at least one precision")):
        with pytest.raises(ValueError, match=fragment):
            parse_bits_option(values)


def test_shared_settings_come_as_fresh_copies_for_each_profile():
    from helpers.book.params import PROFILES, SHARED_SETTINGS, profile_settings

    assert set(SHARED_SETTINGS["curvature"]) == set(PROFILES)
    smoke = profile_settings("curvature", "smoke")
    assert smoke == {"n_points": 12, "n_directions": 2, "steps": [0.01, 0.1], "main_step": 0.01}
    smoke["steps"].append(1.0)  # a chapter changing its copy changes no other chapter's
    assert profile_settings("curvature", "smoke")["steps"] == [0.01, 0.1]
    for profile in PROFILES:
        settings = profile_settings("curvature", profile)
        assert settings["main_step"] in settings["steps"]
    with pytest.raises(ParameterError, match="no shared settings called 'curvatur'"):
        profile_settings("curvatur", "smoke")
    with pytest.raises(ParameterError, match="profile='huge' is unknown"):
        profile_settings("curvature", "huge")


def test_the_curvature_chapters_read_the_shared_settings_and_keep_no_copy():
    from pathlib import Path

    from helpers.book.params import PROFILES, profile_settings

    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    for name in ("04_curvature_threshold", "05_lipschitz_regularization"):
        source = (notebooks / f"{name}.md").read_text()
        assert not re.search(r"main_step=[0-9]|n_directions=[0-9]", source), name
    # chapter 4's table takes them from the shared settings, and chapter 5 asks for the same
    for profile in PROFILES:
        table = params.chapter_profiles("04_curvature_threshold")[profile]
        shared = profile_settings("curvature", profile)
        assert {key: table[key] for key in shared} == shared


def test_the_chapter_the_build_names_applies_its_rules_as_the_build_does(monkeypatch):
    from helpers.book import params

    monkeypatch.setitem(params._chapter_parameters(), "99_test", {"profiles": None, "rules": {
        "dataset": {"one_of": ["digits"]}, "n_samples": {"low": 5, "high": 50}}})
    monkeypatch.delenv(params.CHAPTER_VARIABLE, raising=False)
    assert resolve(dataset="mnist", n_samples=100)["dataset"] == "mnist"  # no chapter named
    monkeypatch.setenv(params.CHAPTER_VARIABLE, "99_test")
    assert resolve("smoke")["n_samples"] == 10
    with pytest.raises(ParameterError, match=r"dataset='mnist' is not one of \['digits'\] "
                                             r"\(chapter 99_test\)"):
        resolve("smoke", dataset="mnist")
    with pytest.raises(ParameterError, match=r"n_samples=100 must be a number in \[5, 50\)"):
        resolve("default")
    # the build's check, without running the chapter, agrees
    assert params.check_parameter("bits", "[3, 1]", chapter="99_test") == [1, 3]
    with pytest.raises(ParameterError, match="is not one of"):
        params.check_parameter("dataset", "mnist", chapter="99_test")
    with pytest.raises(ParameterError, match="supported range"):
        params.check_parameter("bits", "[0]")


def test_chapter_config_reads_the_parameters_cell_and_refuses_unknown_chapters():
    namespace = {"profile": "smoke", "bits": None, "dataset": None, "n_samples": 50,
                 "n_train": None, "n_test": None, "n_seeds": None, "seed": 0}
    config = params.chapter_config("01_numerical_entropy", namespace)
    assert config["n_samples"] == 50 and config["bits"] == [1, 2, 4]  # the smoke table
    with pytest.raises(ParameterError, match="no parameter table for chapter '99_nope'"):
        params.chapter_config("99_nope", namespace)
    with pytest.raises(ParameterError, match="dataset='cifar10' is not one of"):
        params.chapter_config("01_numerical_entropy", {**namespace, "dataset": "cifar10"})
