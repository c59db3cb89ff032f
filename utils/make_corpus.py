#!/usr/bin/env python3
"""A corpus of procedural fader performances, written as real IMPS logs (imps/learn/corpus.py
says how the made-up performers play).

    python utils/make_corpus.py --dimension=9 --performances 40 --minutes 3 --out corpus/9d --seed 1
    python generate_dataset.py --dimension=9 --source corpus/9d --output corpus
"""

from __future__ import annotations

from pathlib import Path

from imps.core import cli
from imps.core.names import log_glob
from imps.learn.corpus import make_corpus


def parse_args(argv=None):
    parser = cli.Parser(description="A corpus of procedural fader performances: made-up performers on N faders, "
                        "written as interface logs that generate_dataset.py collates like a musician's.",
                        epilog="Example: python utils/make_corpus.py --dimension=9 --performances 40 --minutes 3 "
                               "--out corpus/9d --seed 1")
    cli.add_dimension(parser)
    parser.add_argument("--performances", type=int, default=20, help="how many logs to write (default: %(default)s)")
    parser.add_argument("--minutes", type=float, default=3.0,
                        help="average length of a performance: each is 0.8 to 1.2 times it, and then the phrase "
                             "under way ends (default: %(default)s)")
    parser.add_argument("--out", default=None, metavar="FOLDER",
                        help="the folder to write the logs into (default: corpus/{D}d)")
    parser.add_argument("--seed", type=int, default=1,
                        help="the same seed writes the same corpus (default: %(default)s)")
    parser.add_argument("--performers", type=int, default=8,
                        help="how many different players take turns (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=127,
                        help="fader resolution: values are multiples of 1/STEPS, as from a 7-bit MIDI fader; "
                             "0 for continuous values (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace logs of the same name in --out")
    args = parser.parse_args(argv)
    if args.performances < 1 or args.performers < 1 or args.minutes <= 0 or args.steps < 0 or args.seed < 0:
        parser.error("--performances and --performers must be at least 1, --minutes more than 0, "
                     "--steps and --seed not negative")
    return args


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out or f"corpus/{args.dimension}d")
    faders = args.dimension - 1
    cli.say(f"writing {args.performances} performances of about {args.minutes:g} minutes on {faders} "
            f"fader{'s' if faders > 1 else ''} ({log_glob(args.dimension)}) into {out}, seed {args.seed}")
    paths = make_corpus(out, args.dimension, args.performances, args.minutes, args.seed, args.performers,
                        args.steps, args.overwrite, report=cli.say)
    cli.say(f"wrote {len(paths)} logs into {out}: collate them with "
            f"python generate_dataset.py --dimension={args.dimension} --source {out}")


if __name__ == "__main__":
    cli.run(main, (OSError,))
