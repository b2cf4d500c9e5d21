"""Notebook parameters: profile merging, papermill strings and clear errors."""

import pytest

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
    assert resolve(bits="[3, 0.5, 3]")["bits"] == [0.5, 3]
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


def test_parse_bits_sorts_and_deduplicates():
    assert parse_bits([4, 1, 1.5, 4]) == [1, 1.5, 4]


def test_parse_bits_option_keeps_the_order_and_names_bad_values():
    from helpers.book.params import parse_bits_option

    assert parse_bits_option(None) is None
    assert parse_bits_option(["3", "1", "2.5"]) == [3, 1, 2.5]
    for values, fragment in ((["0"], "must be > 0 and <= 52"), (["inf"], "got inf"),
                             (["two"], "takes numbers of bits, got 'two'"),
                             ([], "at least one precision")):
        with pytest.raises(ValueError, match=fragment):
            parse_bits_option(values)
