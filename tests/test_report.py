"""imps.core.report: a model's report in figures, kept beside its weights as JSON."""

from __future__ import annotations

import json
import math

import pytest

from imps.core.model import Sampling
from imps.core.names import report_path
from imps.core.report import ModelReport, ReportError, file_sha256


@pytest.fixture
def weights(tmp_path):
    path = tmp_path / "musicMDRNN-dim3-layers2-units16-mixtures5-scale10.weights.h5"
    path.write_bytes(b"weights as they are now")
    return path


def test_a_report_is_written_beside_the_weights_and_read_back(weights):
    written = ModelReport.of(weights, "training-dataset-3d.npz", 1.25, 0.5, 0.75, Sampling(0.75, 0.5))
    path = written.write(report_path(weights))
    assert path == weights.with_name("musicMDRNN-dim3-layers2-units16-mixtures5-scale10-report.json")
    assert ModelReport.read(weights) == written
    assert written.weights_sha256 == file_sha256(weights)
    assert [p.name for p in weights.parent.iterdir() if p.name.startswith(".")] == []  # written whole


def test_what_was_not_measured_is_none_and_json_holds_no_nan(weights):
    written = ModelReport.of(weights, None, math.nan, 0.5).write(report_path(weights))
    figures = json.loads(written.read_text())  # strict JSON: NaN would not parse elsewhere
    assert figures["heldout_loss"] is None and figures["answer_distance"] is None and figures["sampling"] is None
    read = ModelReport.read(weights)
    assert read.heldout_loss is None and read.solo_distance == 0.5 and read.dataset is None


def test_no_report_and_a_report_of_other_weights_are_none(weights):
    assert ModelReport.read(weights) is None
    ModelReport.of(weights, "d.npz", 1.0).write(report_path(weights))
    weights.write_bytes(b"retrained: other weights under the same name")
    assert ModelReport.read(weights) is None  # the figures were of the file it replaced


@pytest.mark.parametrize("text, says", [
    ("{not json", "is not a report IMPS can read"),
    ("[1, 2]", "is not a report IMPS wrote"),
    ('{"format": 1}', "is not a report IMPS wrote (KeyError"),
    ('{"weights_sha256": "x", "dataset": null, "heldout_loss": true, "solo_distance": null, '
     '"answer_distance": null, "sampling": null}', "expected a number, got True"),
    ('{"weights_sha256": "x", "dataset": 3, "heldout_loss": 1, "solo_distance": null, '
     '"answer_distance": null, "sampling": null}', "expected text, got 3"),
    ('{"weights_sha256": "x", "dataset": null, "heldout_loss": 1, "solo_distance": null, '
     '"answer_distance": null, "sampling": {"pitemp": 1}}', "KeyError"),
])
def test_a_report_imps_cannot_read_is_one_line_saying_what_to_do(weights, text, says):
    report_path(weights).write_text(text)
    with pytest.raises(ReportError) as error:
        ModelReport.read(weights)
    message = str(error.value)
    assert says in message and "\n" not in message and message.endswith("again with utils/evaluate_model.py")
