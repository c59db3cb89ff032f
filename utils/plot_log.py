#!/usr/bin/env python3
"""Draw an IMPS performance log as a PNG: one lane per value over time, the musician's
(interface) and the model's (rnn) events in different colours.

    python utils/plot_log.py logs/2024-01-01T12-00-00-9d-mdrnn.log
    python utils/plot_log.py LOG --output picture.png --start 10 --end 40
"""

from __future__ import annotations

from pathlib import Path

from imps.core import cli
from imps.learn.plots import DPI, HOLD, PlotError, plot_log


def parse_args(argv=None):
    parser = cli.Parser(description="Draw an IMPS performance log (timestamp,interface|rnn,x1,...,xN) as a PNG: "
                                    "one lane per value over time, interface and rnn events in different colours.")
    parser.add_argument("log", help="the log file, e.g. logs/2024-01-01T12-00-00-9d-mdrnn.log")
    parser.add_argument("-o", "--output", metavar="PNG",
                        help="where to write the picture (default: the log's name with .png)")
    parser.add_argument("-d", "--dimension", type=cli.dimension,
                        help="values per line + 1 (default: from the file name, ...-{D}d-mdrnn.log, "
                             "or else from its first line)")
    parser.add_argument("--start", type=float, metavar="SECONDS", help="draw from this many seconds in")
    parser.add_argument("--end", type=float, metavar="SECONDS", help="draw up to this many seconds in")
    parser.add_argument("--title", help="the picture's title (default: the log's name and length)")
    parser.add_argument("--hold", type=float, default=HOLD, metavar="SECONDS",
                        help="draw a source's line dotted across its silences longer than this: the value is "
                             "held, but nobody is playing (default: %(default)s)")
    parser.add_argument("--dpi", type=int, default=DPI, help="pixels per inch; the picture is 12 inches wide "
                                                             "(default: %(default)s)")
    args = parser.parse_args(argv)
    if args.dpi < 10 or args.hold <= 0:
        parser.error("--dpi must be at least 10 and --hold more than 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    log = Path(args.log)
    output = Path(args.output) if args.output else log.with_name(log.name + ".png")
    n_values = args.dimension - 1 if args.dimension else None
    path = plot_log(log, output, n_values, args.start, args.end, args.title, args.dpi, args.hold)
    cli.say(f"wrote {path}")


if __name__ == "__main__":
    cli.run(main, (PlotError, OSError))
