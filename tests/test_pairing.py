"""Pairing magnetograms with AIA images in time, and date-range splits."""
import json

import astropy.units as u
import numpy as np
import pytest

from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.passbands import PASSBAND_NAMES
from solar_euv.sdo.pairing import SourceFile, pair_files
from solar_euv.sdo.splits import DateRange, assign_splits, default_splits, parse_splits
from solar_euv.sdo.times import format_time, parse_time, parse_tolerance


def _files():
    return [
        SourceFile("hmi", "2017-07-01T00:00:00Z", "m0.fits"),
        SourceFile("hmi", "2017-07-01T06:00:00Z", "m1.fits"),
        SourceFile("171", "2017-07-01T00:00:09Z", "a171_0.fits"),
        SourceFile("171", "2017-07-01T00:04:00Z", "a171_late.fits"),
        SourceFile("171", "2017-07-01T06:07:00Z", "a171_1_far.fits"),
        SourceFile("193", "2017-07-01T05:57:00Z", "a193_1.fits"),
        SourceFile("193", "2017-07-01T06:03:00Z", "a193_1_tie.fits"),
        SourceFile("1600", "2017-07-01T00:00:12Z", "a1600.fits"),
    ]


def test_nearest_within_tolerance_and_missing_recorded():
    result = pair_files(_files(), passbands=["171", "193"])
    first, second = result.observations
    assert first.time == "2017-07-01T00:00:00Z"
    assert first.sources == {"hmi": "m0.fits", "171": "a171_0.fits"}
    assert first.times["171"] == "2017-07-01T00:00:09Z"
    assert first.missing == ("193",)
    # 171 at +7 min is beyond 6 min: missing, not borrowed.
    assert "171" not in second.sources and second.missing == ("171",)
    # Two 193 images 3 min either side: the earlier one wins.
    assert second.sources["193"] == "a193_1.fits"
    unused = {f.path for f in result.unused}
    assert unused == {"a171_late.fits", "a171_1_far.fits", "a193_1_tie.fits", "a1600.fits"}
    assert result.missing_counts() == {"171": 1, "193": 1}


def test_tolerance_is_configurable():
    result = pair_files(_files(), passbands=["171"], tolerance="8min")
    assert result.observations[1].sources["171"] == "a171_1_far.fits"
    strict = pair_files(_files(), passbands=["171"], tolerance=5 * u.s)
    assert strict.observations[0].missing == ("171",)


def test_default_pairs_all_nine_passbands():
    result = pair_files(_files())
    assert result.passbands == PASSBAND_NAMES
    assert result.observations[0].passbands == ("1600", "171")
    assert len(result.observations[0].missing) == 7


def test_kind_from_objects_and_aliases():
    class Prepared:  # anything with kind / time / path, like prep's results
        def __init__(self, kind, time, path):
            self.kind, self.time, self.path = kind, time, path

    result = pair_files([Prepared("HMI", "2011-01-01 00:00:00", "m"),
                         Prepared("171A", "2011-01-01T00:00:09.340Z", "a")], ["171"])
    assert result.observations[0].sources == {"hmi": "m", "171": "a"}
    assert result.observations[0].times["171"] == "2011-01-01T00:00:09.340Z"


def test_unknown_kind_and_bad_time_are_refused():
    with pytest.raises(SolarEUVError, match="unknown AIA passband '4500'"):
        pair_files([SourceFile("4500", "2011-01-01T00:00:00Z", "x")])
    with pytest.raises(SolarEUVError, match="'yesterday' is not an ISO-8601 UTC time"):
        pair_files([SourceFile("hmi", "yesterday", "x")])


def test_duplicate_magnetogram_time_used_once():
    files = [SourceFile("hmi", "2011-01-01T00:00:00Z", "b.fits"),
             SourceFile("hmi", "2011-01-01T00:00:00Z", "a.fits")]
    result = pair_files(files, ["171"])
    assert [o.sources["hmi"] for o in result.observations] == ["a.fits"]
    assert [f.path for f in result.unused] == ["b.fits"]


def test_tolerance_parsing():
    assert parse_tolerance("6min") == 6 * u.min
    assert parse_tolerance("360 s") == 6 * u.min
    for bad in ("6", "six minutes", "6 G", "-1 min"):
        with pytest.raises(SolarEUVError, match="tolerance"):
            parse_tolerance(bad)


def test_times():
    assert parse_time("2011-01-01T00:00:09Z") == np.datetime64("2011-01-01T00:00:09", "ms")
    assert format_time("2011-01-01 00:00:09") == "2011-01-01T00:00:09Z"
    assert format_time("2011-01-01T00:00:09.5Z") == "2011-01-01T00:00:09.500Z"


def test_default_splits_are_the_papers():
    train, val, test = default_splits()
    assert (train.name, val.name, test.name) == ("train", "validation", "test")
    assert "2011-01-01T00:00:00Z" in train and "2016-12-31T23:59:59Z" in train
    assert "2017-01-01T00:00:00Z" not in train and "2017-01-01T00:00:00Z" in val
    assert "2017-06-30T23:00:00Z" in val and "2017-07-01T00:00:00Z" in test
    assert "2017-12-31T23:59:59Z" in test and "2018-01-01T00:00:00Z" not in test
    assert "2010-12-31T23:59:59Z" not in train


def test_parse_splits_text_and_resolution():
    splits = parse_splits("train=2011:2015,val=2016-01:2016-06,"
                          "test=2016-07-01T00:00..2016-12-31T12:00")
    assert [r.name for r in splits] == ["train", "val", "test"]
    assert "2015-12-31T23:59:59Z" in splits[0]
    assert "2016-06-30T23:59:59Z" in splits[1]
    assert "2016-12-31T12:00:00Z" in splits[2] and "2016-12-31T12:01:00Z" not in splits[2]
    assert splits[1].to_dict()["until"] == "2016-07-01T00:00:00Z"
    assert parse_splits(None) == default_splits() == parse_splits("paper")


@pytest.mark.parametrize("spec, message", [
    ("train=2011:2016,val=2016-06:2017", "'train' .* and 'val' .* overlap"),
    ("train=2016:2011", "ends \\(2011\\) before it starts"),
    ("train=2011-13:2012", "'2011-13' is not a date"),
    ("train 2011:2012", "is not NAME=START:END"),
    ("train=2011:2012,train=2013:2014", "given more than once"),
    ("1st=2011:2012", "must start with a letter"),
    (",", "no split given"),
])
def test_bad_splits_are_refused(spec, message):
    with pytest.raises(SolarEUVError, match=message):
        parse_splits(spec)


def test_splits_from_json_file(tmp_path):
    good = tmp_path / "splits.json"
    good.write_text(json.dumps({"splits": {"a": {"start": "2012", "end": "2012"},
                                           "b": {"start": "2013", "end": "2013"}}}))
    assert [r.name for r in parse_splits(str(good))] == ["a", "b"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"splits": {"a": {"start": "2012"}}}')
    with pytest.raises(InputError, match="bad.json: is not a split definition"):
        parse_splits(str(bad))
    overlapping = tmp_path / "overlap.json"
    overlapping.write_text(json.dumps({"splits": {"a": {"start": "2012", "end": "2013"},
                                                  "b": {"start": "2013", "end": "2014"}}}))
    with pytest.raises(InputError, match="overlap.json: splits 'a' .* overlap"):
        parse_splits(str(overlapping))


def test_assign_splits():
    result = pair_files([
        SourceFile("hmi", "2010-06-01T00:00:00Z", "early"),
        SourceFile("hmi", "2016-12-31T18:00:00Z", "train"),
        SourceFile("hmi", "2017-03-01T00:00:00Z", "val"),
        SourceFile("hmi", "2017-12-31T18:00:00Z", "test"),
    ], ["171"])
    assigned = assign_splits(result.observations, default_splits())
    assert {k: [o.sources["hmi"] for o in v] for k, v in assigned.splits.items()} == {
        "train": ["train"], "validation": ["val"], "test": ["test"]}
    assert [o.sources["hmi"] for o in assigned.outside] == ["early"]
    assert isinstance(assigned.ranges[0], DateRange)
