"""`generec selftest`: the bundled models' outputs on fixed inputs, which the installer's build
compares between the installed copy and the developer install (issue 16)."""
import json

import pytest

from core.cli import EXIT_BAD_INPUT, main
from core.selftest import TOLERANCE, compare, run_selftest


@pytest.fixture(scope="module")
def result():
    return run_selftest()


def test_it_covers_the_encoder_and_both_samplers_and_repeats_exactly(result):
    assert set(result.outputs) == {"encoder.image", "encoder.text", "video.revise",
                                   "video.create", "thumbnail.generate"}
    for name, values in result.outputs.items():
        assert len(values) > 2 and any(v != 0 for v in values), name
    again = run_selftest()
    assert all(d.max_abs == 0.0 for d in compare(again, json.loads(result.to_json())))


def test_a_difference_beyond_the_tolerance_or_a_missing_output_is_reported(result):
    theirs = json.loads(result.to_json())
    theirs["outputs"]["video.revise"][5] += 2 * TOLERANCE
    theirs["outputs"]["video.create"][0] += TOLERANCE / 2
    del theirs["outputs"]["encoder.text"]
    found = {d.name: d for d in compare(result, theirs)}
    assert not found["video.revise"].within
    assert found["video.revise"].max_abs == pytest.approx(2 * TOLERANCE)
    assert found["video.create"].within
    assert found["encoder.text"].max_abs is None and not found["encoder.text"].within
    assert found["thumbnail.generate"].within


def test_against_a_file_that_is_not_a_selftest_is_bad_input(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text("{\"versions\": {}}")
    assert main(["selftest", "--against", str(bad)]) == EXIT_BAD_INPUT
    assert "not a selftest result" in capsys.readouterr().err
