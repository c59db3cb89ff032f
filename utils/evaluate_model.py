#!/usr/bin/env python3
"""How well a model plays, on one screen and in one picture (imps/learn/evaluation.py says
how each figure is made).

    python utils/evaluate_model.py models/musicMDRNN-dim9-layers2-units32-mixtures5-scale10.weights.h5 \\
        datasets/training-dataset-9d.npz
    python utils/evaluate_model.py WEIGHTS tests/fixtures/training-dataset-4d-12ksmall.npz --allow-pickle
"""

from __future__ import annotations

import bootstrap  # noqa: F401  (first: one BLAS thread as the server runs; tests/harness)



import time
from pathlib import Path

import numpy as np

from imps.core import cli
from imps.learn.evaluation import SHARE_ROW, SOLO_EVENTS, Style


def parse_args(argv=None):
    parser = cli.Parser(description="Report how well a model plays: its loss on the dataset's held-out windows "
                                    "(as the trainer's val_loss) and on each performance, and the style of a solo "
                                    "and of its answers to held-out phrases beside the dataset's playing.")
    parser.add_argument("weights", help="a weights file (.weights.h5 from the trainer, or an original IMPS .h5)")
    parser.add_argument("dataset", help="a dataset file (datasets/training-dataset-{D}d.npz)")
    cli.add_allow_pickle(parser)
    cli.add_temperatures(parser)
    parser.add_argument("--seed", type=int, default=0, help="the model's playing is the same for the same seed "
                                                            "(default: %(default)s)")
    parser.add_argument("--events", type=int, default=SOLO_EVENTS,
                        help="the most events the model plays alone; fewer if the dataset holds fewer "
                             "(default: %(default)s)")
    parser.add_argument("--choose-sampling", action="store_true",
                        help="first let the model play a solo and answer the held-out phrases at each of several "
                             "temperature pairs, and report with the pair whose playing is closest in style to the "
                             "dataset's (as the trainer chooses at its end)")
    parser.add_argument("--store", action="store_true",
                        help="with --choose-sampling: store the chosen temperatures in the weights file, where "
                             "predictive_music_model.py plays them unless --sigmatemp or --pitemp say otherwise")
    parser.add_argument("--output", metavar="PNG", help="the picture, and beside it the figures as .json (default: "
                                                        "beside the weights, their name with -report.png and "
                                                        "-report.json, where the web page's list of models shows them)")
    args = parser.parse_args(argv)
    if min(args.sigmatemp or 0, args.pitemp or 0) < 0 or args.events < 2:
        parser.error("--sigmatemp and --pitemp must not be negative, and --events must be at least 2")
    if args.choose_sampling and (args.sigmatemp is not None or args.pitemp is not None):
        parser.error("--choose-sampling chooses the temperatures: leave out --sigmatemp and --pitemp")
    if args.store and not args.choose_sampling:
        parser.error("--store stores what --choose-sampling chose: give both")
    return args


def style_table(style: Style) -> str:
    lines = ["| row | dataset median | dataset p90 | model median | model p90 | distance |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in style.rows:
        cells = []
        for sample in (row.dataset, row.model):
            if row.name == SHARE_ROW:  # a share: its median and 90th percentile would only say 0 or 1
                cells += [f"{sample.mean():.1%}" if len(sample) else "-", ""]
            else:
                cells += [f"{np.percentile(sample, q):.3g}" if len(sample) else "-" for q in (50, 90)]
        distance = f"not measured: {row.unmeasured}" if row.unmeasured else f"{row.distance:.2f}"
        lines.append(f"| {row.name} | {' | '.join(cells)} | {distance} |")
    unmeasured = [row.name for row in style.rows if row.unmeasured]
    lines.append(f"\nstyle distance: {style.distance:.2f}"
                 + (f" (the mean of {len(style.rows) - len(unmeasured)} rows; left out, not measured: "
                    f"{', '.join(unmeasured)})" if unmeasured else ""))
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    from imps.learn.dataset import load_dataset
    from imps.learn.evaluation import choice_line, choose_sampling, evaluate
    from imps.core.names import report_path, report_plot_path
    from imps.core.model import resolve_sampling
    from imps.core.report import ModelReport
    from imps.learn.plots import plot_evaluation
    from imps.learn.tfnoise import filter_tensorflow_noise
    from imps.core.weights import describe, load_weights, store_sampling

    began = time.perf_counter()
    weights = load_weights(args.weights)
    dataset = load_dataset(args.dataset, allow_pickle=args.allow_pickle)
    if dataset.dimension != weights.dimension:
        cli.fail(f"{args.dataset} holds {dataset.dimension}-d events but {args.weights} is a {weights.dimension}-d "
                 "model: evaluate it on a dataset of its own dimension")
    dataset.window_starts(weights.config.seq_len)  # refuse a dataset too short before TensorFlow's slow start
    filter_tensorflow_noise()
    if args.choose_sampling:
        tried = choose_sampling(weights, dataset)
        cli.say(choice_line(tried))
        weights.sampling = tried[0].sampling
        if args.store:
            store_sampling(args.weights, weights.sampling)
            cli.say(f"stored {weights.sampling.flags()} in {args.weights}")
    sampling, sampling_line = resolve_sampling(args.pitemp, args.sigmatemp, weights.sampling)
    report = evaluate(weights, dataset, sampling.pi_temp, sampling.sigma_temp, args.seed, args.events)
    cli.say(f"{args.weights} ({describe(weights.config)}) on {args.dataset}: {dataset.summary()}\n")
    cli.say(f"held-out loss, the last {report.heldout_windows} windows (as the trainer's val_loss): "
            f"{report.heldout_loss:.4f}")
    if len(report.performance_losses) > 1:
        cli.say("loss on each performance in turn: " + ", ".join(
            f"{n}: {loss:.3f} ({events} events)" for n, (events, loss) in enumerate(report.performance_losses, 1)))
    cli.say(f"\nstyle: a solo of {len(report.solo)} events ({sampling_line}; --seed {args.seed}) beside the dataset\n")
    cli.say(style_table(report.solo_style))
    if report.answer_style is None:
        cli.say("\nanswering a phrase: the held-out part holds no phrase long enough to answer")
    else:
        cli.say(f"\nanswering {report.phrases} held-out phrases (the first half fed, the second half played) beside "
                "the real continuations\n")
        cli.say(style_table(report.answer_style))
    weights_path = Path(args.weights)
    output = Path(args.output) if args.output else report_plot_path(weights_path)
    plot_evaluation(report.solo_style, report.solo, output, weights_path.name)
    figures = ModelReport.of(weights_path, Path(args.dataset).name, report.heldout_loss, report.solo_style.distance,
                             report.answer_style.distance if report.answer_style is not None else None,
                             sampling).write(output.with_suffix(".json") if args.output else report_path(weights_path))
    cli.say(f"\npicture: {output}\nfigures: {figures}  ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    cli.run(main, (OSError,))
