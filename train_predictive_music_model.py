#!/usr/bin/env python3
"""Train an IMPS MDRNN on a dataset made by generate_dataset.py."""

import math
import sys
from dataclasses import replace
from pathlib import Path

from imps.core import cli
from imps.core.model import DEFAULT_SIZE, SEQ_LEN
from imps.core.names import DATASETS_DIR, dataset_path
from imps.core.weights import SMALL_DATASET_EVENTS
from imps.learn.config import STRATEGIES, TrainConfig, epochs_text

DEFAULTS = TrainConfig()


def parse_args():
    parser = cli.Parser(description="Train the mixture density RNN on datasets/training-dataset-{D}d.npz and write "
                                    "its weights into models/, where predictive_music_model.py finds them.")
    cli.add_dimension(parser)
    # Not given: the size of the weights training starts from, if any, else DEFAULT_SIZE.
    cli.add_modelsize(parser, default=None,
                      default_text=f"{DEFAULT_SIZE}, or the size of the weights training starts from")
    parser.add_argument("-e", "--earlystopping", action="store_true",
                        help="stop when the validation loss has not improved for --patience epochs")
    parser.add_argument("-p", "--patience", type=int, default=DEFAULTS.patience,
                        help="epochs without improvement before early stopping (default: %(default)s)")
    parser.add_argument("-n", "--numepochs", type=int, default=DEFAULTS.epochs,
                        help=f"the most epochs on {SEQ_LEN}-event windows, counted after the --warmup epochs on "
                             f"{DEFAULTS.warmup_seq_len}-event windows: at most --warmup + --numepochs in all "
                             "(default: %(default)s)")
    parser.add_argument("--minutes", type=float, default=None, metavar="M",
                        help="train for at most M minutes, the warm-up included, and keep the best weights "
                             "reached by then: a model ready when you need it (default: no limit, the epochs "
                             "alone decide)")
    parser.add_argument("-f", "--file", metavar="WEIGHTS",
                        help="start from these weights (to resume or fine-tune) instead of an untrained model")
    parser.add_argument("--scratch", action="store_true",
                        help=f"start from an untrained model even when the dataset is small ({SMALL_DATASET_EVENTS:,} "
                             "events or fewer) and you have no weights of your own for the "
                             "dimension, where the trainer otherwise fine-tunes IMPS's default model")
    parser.add_argument("-b", "--batchsize", type=int, default=DEFAULTS.batch_size,
                        help="windows per batch (default: %(default)s)")
    parser.add_argument("--dataset", metavar="PATH",
                        help="the dataset to train on (default: datasets/training-dataset-{D}d.npz)")
    cli.add_allow_pickle(parser)
    parser.add_argument("--pervalue", action="store_true",
                        help="give each value of an event (the time and each control) a mixture of its own, rather "
                             "than one mixture over the whole event as the original IMPS does: a model that moves "
                             "one control at a time as a player does, rather than all a little; ignored with "
                             "--file, whose weights keep their own head")
    parser.add_argument("--nosampling", action="store_true",
                        help="do not choose the model's sampling at the end: by default the trainer lets the model "
                             "play a solo and answer held-out phrases at 36 pairs of --pitemp and --sigmatemp and "
                             "stores the pair closest to the dataset's style in the weights, where "
                             "predictive_music_model.py plays it (about a minute for size s)")
    parser.add_argument("--learningrate", type=float, default=DEFAULTS.learning_rate,
                        help="Adam's learning rate, halved whenever the validation loss stalls for "
                             f"{epochs_text(DEFAULTS.plateau_patience)} (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=DEFAULTS.warmup_epochs, metavar="EPOCHS",
                        help=f"epochs on {DEFAULTS.warmup_seq_len}-event windows before the {SEQ_LEN}-event ones: "
                             "many quick steps that get the model going sooner; 0 to skip (default: %(default)s)")
    parser.add_argument("--clipnorm", type=float, default=DEFAULTS.clipnorm, metavar="NORM",
                        help="cap on the norm of each weight's gradient, which keeps one surprising event from "
                             "undoing what the model has learned; 0 turns it off (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed the model's initial weights and the order of the windows, so that the same "
                             "command trains the same model (default: a different start each time)")
    parser.add_argument("--strategy", choices=STRATEGIES, default=DEFAULTS.strategy,
                        help="how to spread training over devices: mirrored copies the model onto every GPU and "
                             "splits each batch among them; auto uses mirrored when more than one GPU is visible "
                             "(default: %(default)s)")
    args = parser.parse_args()
    if args.numepochs < 1 or args.batchsize < 1 or args.patience < 0 or args.warmup < 0 \
            or not 0 < args.learningrate < math.inf or not 0 <= args.clipnorm < math.inf \
            or (args.minutes is not None and not 0 < args.minutes < math.inf):
        parser.error("--numepochs and --batchsize must be at least 1, --patience, --warmup and --clipnorm not "
                     "negative, and --learningrate and --minutes above 0, each a finite number")
    config = replace(DEFAULTS, epochs=args.numepochs, batch_size=args.batchsize,
                     early_stopping=args.earlystopping, patience=args.patience, learning_rate=args.learningrate,
                     warmup_epochs=args.warmup, strategy=args.strategy, clipnorm=args.clipnorm or None,
                     minutes=args.minutes, choose_sampling=not args.nosampling, per_value=args.pervalue)
    return args, config


def main():
    args, config = parse_args()
    from imps.learn.dataset import load_dataset
    from imps.learn.plan import plan_training
    from imps.learn.tfnoise import filter_tensorflow_noise

    path = args.dataset or dataset_path(DATASETS_DIR, args.dimension)
    dataset = load_dataset(path, allow_pickle=args.allow_pickle)
    plan = plan_training(config, dataset, path, args.dimension, args.modelsize, args.file, args.scratch)
    cli.say(plan.line(path))
    cli.say(f"dataset {path}: {dataset.summary()}")
    dataset.window_starts()  # refuse a dataset too short to train before TensorFlow's slow start
    filter_tensorflow_noise()
    from imps.learn.training import train

    try:
        result = train(dataset, plan.config, initial_weights=plan.initial, verbose=1 if sys.stdout.isatty() else 2,
                       seed=args.seed, report=cli.say, dataset_name=Path(path).name)
    except KeyboardInterrupt:  # before the first epoch on full windows ended
        cli.fail("interrupted before the first epoch ended: nothing was saved", code=130)
    cli.say(f"{'interrupted' if result.interrupted else 'done'}:\n{result.summary()}")
    cli.say(f"play it: python {cli.SERVER} --dimension={args.dimension} --modelsize={plan.config.model_size}")
    if result.interrupted:
        sys.exit(130)  # as a program stopped by Ctrl-C ends, its best weights kept


if __name__ == "__main__":
    cli.run(main)
