"""A model's report in figures: what was measured of how a weights file plays, kept beside
it as `{name}-report.json` (names.report_path), so that a list of models can show them.

The trainer writes one at its end, and utils/evaluate_model.py with each report it
prints; the web page's library reads them. It is JSON: nothing in it is unpickled. It
names the SHA-256 of the weights file it measured, so a report left beside a file that
has since been replaced (retrained, or its sampling stored anew) is never shown as that
file's.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

from .errors import IMPSError
from .files import written_whole
from .model import Sampling
from .names import report_path

FORMAT = 1  # the report file's version: a later IMPS may add fields, never change these


class ReportError(IMPSError):
    """A report file IMPS cannot read; the message says which and why in one line."""


def file_sha256(path: Path | str) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


@dataclass(frozen=True)
class ModelReport:
    weights_sha256: str  # of the weights file measured
    dataset: str | None  # the name of the dataset it was measured on
    heldout_loss: float | None  # on the dataset's held-out windows, as the trainer's val_loss; None: none held out
    solo_distance: float | None  # the style distance of a solo from the dataset's playing (0: plays as it does)
    answer_distance: float | None  # of its answers to held-out phrases from the real continuations
    sampling: Sampling | None  # the temperatures the solo and the answers were played at

    @classmethod
    def of(cls, weights: Path | str, dataset: str | None, heldout_loss: float | None = None,
           solo_distance: float | None = None, answer_distance: float | None = None,
           sampling: Sampling | None = None) -> ModelReport:
        """The report of the weights file as it is now."""
        finite = [None if x is None or not math.isfinite(x) else float(x)  # JSON has no NaN: None is "not measured"
                  for x in (heldout_loss, solo_distance, answer_distance)]
        return cls(file_sha256(weights), dataset, *finite, sampling)

    def write(self, path: Path | str) -> Path:
        """Whole or not at all, to `path`: report_path(weights), where a list of models looks."""
        path = Path(path)
        figures = {"format": FORMAT, "weights_sha256": self.weights_sha256, "dataset": self.dataset,
                   "heldout_loss": self.heldout_loss, "solo_distance": self.solo_distance,
                   "answer_distance": self.answer_distance,
                   "sampling": None if self.sampling is None else {"pitemp": self.sampling.pi_temp,
                                                                   "sigmatemp": self.sampling.sigma_temp}}
        with written_whole(path, ".json") as tmp:
            tmp.write_text(json.dumps(figures, indent=2) + "\n")
        return path

    @classmethod
    def read(cls, weights: Path | str) -> ModelReport | None:
        """The report beside the weights, or None when there is none or it measured other
        weights than the file now holds; ReportError when it cannot be read."""
        path = report_path(weights)
        try:
            figures = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ReportError(f"{path} is not a report IMPS can read ({error}): measure the model again with "
                              "utils/evaluate_model.py") from None
        try:
            report = cls(_text(figures["weights_sha256"]), _text(figures["dataset"], True),
                         *(_number(figures[key]) for key in ("heldout_loss", "solo_distance", "answer_distance")),
                         _sampling(figures["sampling"]))
        except (TypeError, KeyError, ValueError) as error:
            raise ReportError(f"{path} is not a report IMPS wrote ({type(error).__name__}: {error}): measure the "
                              "model again with utils/evaluate_model.py") from None
        return report if report.weights_sha256 == file_sha256(weights) else None


def _text(value, optional: bool = False) -> str | None:
    if isinstance(value, str) or (optional and value is None):
        return value
    raise TypeError(f"expected text, got {value!r}")


def _number(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise TypeError(f"expected a number, got {value!r}")


def _sampling(value) -> Sampling | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(f"expected the temperatures, got {value!r}")
    pi_temp, sigma_temp = _number(value["pitemp"]), _number(value["sigmatemp"])
    if pi_temp is None or sigma_temp is None:
        raise TypeError(f"expected two temperatures, got {value!r}")
    return Sampling(pi_temp, sigma_temp)
