#!/usr/bin/env python3
"""Collate IMPS performance logs into a training dataset."""

import sys

from imps.core import cli
from imps.core.names import DATASETS_DIR, LOGS_DIR, dataset_path, log_glob
from imps.learn.dataset import PERFORMANCE_GAP


def parse_args():
    parser = cli.Parser(description="Collate every *-{D}d-mdrnn.log in the logs folder into "
                                    "datasets/training-dataset-{D}d.npz for train_predictive_music_model.py. "
                                    "Only the musician's (interface) events are used.")
    cli.add_dimension(parser)
    parser.add_argument("-s", "--source", default=LOGS_DIR, help="the folder of logs to read (default: %(default)s)")
    parser.add_argument("-o", "--output", default=DATASETS_DIR,
                        help="the folder to write the dataset into (default: %(default)s)")
    parser.add_argument("--gap", type=float, default=PERFORMANCE_GAP, metavar="SECONDS",
                        help="two of the musician's events further apart than this in a log are taken as two "
                             "performances, as are two where the clock stepped back (a clock set by the network, "
                             f"daylight saving): the report counts each (default: %(default)g, {PERFORMANCE_GAP / 60:g} minutes)")
    args = parser.parse_args()
    if not args.gap > 0:  # nan too
        parser.error("--gap must be more than 0 seconds")
    return args


def main():
    args = parse_args()
    from tqdm import tqdm

    from imps.learn.dataset import collate_logs, save_dataset

    def progress(files):
        return tqdm(files, desc="reading logs", unit="log", disable=len(files) < 10 or not sys.stderr.isatty())

    cli.say(f"collating {log_glob(args.dimension)} in {args.source}")
    dataset, reports = collate_logs(args.source, args.dimension, progress, args.gap)
    for report in reports:
        cli.say("  " + report.line())
    path = save_dataset(dataset, dataset_path(args.output, args.dimension))
    cli.say(f"wrote {path}: {dataset.summary()}")


if __name__ == "__main__":
    cli.run(main, (OSError,))
