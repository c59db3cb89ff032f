#!/usr/bin/env python3
"""Draw a summary of an IMPS dataset as a PNG: events per performance, and a
histogram of the times between events on logarithmic axes.

    python utils/plot_dataset.py datasets/training-dataset-9d.npz
    python utils/plot_dataset.py --dimension=9            # the same file, by dimension
"""

from __future__ import annotations

from pathlib import Path

from imps.core import cli
from imps.core.names import DATASETS_DIR, dataset_path
from imps.learn.dataset import load_dataset
from imps.learn.plots import DPI, PlotError, plot_dataset


def parse_args(argv=None):
    parser = cli.Parser(description="Draw a summary of a dataset made by generate_dataset.py as a PNG: events per "
                                    "performance and a histogram of the time between events (log scale).")
    parser.add_argument("dataset", nargs="?", help="the dataset file (default: datasets/training-dataset-{D}d.npz)")
    parser.add_argument("-d", "--dimension", type=cli.dimension,
                        help="find the dataset by dimension in datasets/ when no file is named")
    parser.add_argument("-o", "--output", metavar="PNG",
                        help="where to write the picture (default: the dataset's name with .png)")
    parser.add_argument("--title", help="the picture's title (default: the dataset's file name)")
    cli.add_allow_pickle(parser)
    parser.add_argument("--dpi", type=int, default=DPI, help="pixels per inch; the picture is 12 inches wide "
                                                             "(default: %(default)s)")
    args = parser.parse_args(argv)
    if args.dataset is None and args.dimension is None:
        parser.error("name a dataset file or give --dimension")
    if args.dpi < 10:
        parser.error("--dpi must be at least 10")
    return args


def main(argv=None):
    args = parse_args(argv)
    path = Path(args.dataset) if args.dataset else dataset_path(DATASETS_DIR, args.dimension)
    dataset = load_dataset(path, allow_pickle=args.allow_pickle)
    if args.dimension and dataset.dimension != args.dimension:
        cli.fail(f"{path} holds {dataset.dimension}-d events, not {args.dimension}-d")
    output = Path(args.output) if args.output else path.with_name(path.name + ".png")
    written = plot_dataset(dataset, output, args.title or path.name, args.dpi)
    cli.say(f"wrote {written}: {dataset.summary()}")


if __name__ == "__main__":
    cli.run(main, (PlotError, OSError))
