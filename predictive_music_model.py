#!/usr/bin/env python3
"""IMPS performance server: listens for /interface, plays the model's /prediction."""

import os

# One BLAS thread: a step's matrices are small, and a second thread only adds waiting
# for it, badly so when another program has the other core. Set before numpy loads.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import signal  # noqa: E402
import threading  # noqa: E402

from imps import cli  # noqa: E402
from imps.sizes import model_size  # noqa: E402

DESCRIPTION = """Interactive Musical Prediction System: a mixture density RNN that listens to your
interface over OSC (/interface x1 ... xN) and plays back its predictions (/prediction x1 ... xN).
Send /temperature SIGMA PI and /timescale FACTOR to change sampling and tempo while playing."""


def parse_args():
    parser = cli.Parser(description=DESCRIPTION)
    cli.add_dimension(parser)
    parser.add_argument("-l", "--log", action="store_true",
                        help="log every event to logs/YYYY-MM-DDTHH-MM-SS-{D}d-mdrnn.log for making datasets")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each event as it comes and goes")
    modes = parser.add_argument_group("modes (choose one; default: call and response)").add_mutually_exclusive_group()
    modes.add_argument("-o", "--only", dest="mode", action="store_const", const="useronly",
                       help="user only: no model and no predictions; with --log it records your playing for a "
                            "dataset, without --log nothing is recorded")
    modes.add_argument("-c", "--call", dest="mode", action="store_const", const="callresponse",
                       help="call and response: the model listens while you play and answers when you stop "
                            "for --callresponsethresh seconds")
    modes.add_argument("-p", "--polyphony", dest="mode", action="store_const", const="polyphony",
                       help="polyphony: the model answers every event you play")
    modes.add_argument("-b", "--battle", dest="mode", action="store_const", const="battle",
                       help="battle: the model plays on by itself from its own predictions, whatever you play")
    parser.set_defaults(mode="callresponse")
    parser.add_argument("--callresponsethresh", type=float, default=2.0, metavar="SECONDS",
                        help="seconds of quiet before the model answers in call and response (default: %(default)s)")
    parser.add_argument("--clientip", default="localhost",
                        help="address /prediction is sent to, your synth (default: %(default)s)")
    parser.add_argument("--clientport", type=int, default=5000, help="port /prediction is sent to (default: %(default)s)")
    parser.add_argument("--serverip", default="localhost",
                        help="address to listen on for /interface (default: %(default)s)")
    parser.add_argument("--serverport", type=int, default=5001, help="port to listen on (default: %(default)s)")
    cli.add_modelsize(parser)
    parser.add_argument("--modelfile", metavar="PATH",
                        help="perform with this weights file (a .weights.h5 from the trainer or an original IMPS .h5) "
                             "instead of looking in models/")
    parser.add_argument("--sigmatemp", type=float, default=0.01,
                        help="sigma temperature: how far samples stray from the model's means (default: %(default)s)")
    parser.add_argument("--pitemp", type=float, default=1.0,
                        help="pi temperature: how freely the model picks among its mixture components "
                             "(default: %(default)s)")
    parser.add_argument("--engine", choices=("numpy", "keras"), default="numpy",
                        help="numpy (fast, no TensorFlow) or keras (the same model through TensorFlow, for "
                             "comparison) (default: %(default)s)")
    return parser.parse_args()


def main():
    args = parse_args()
    from imps.engine import Predictor, make_network
    from imps.osc import is_loopback
    from imps.server import PerformanceServer, ServerConfig
    from imps.tfnoise import filter_tensorflow_noise
    from imps.weights import choose_weights

    size = model_size(args.modelsize)
    predictor = None
    if args.mode == "useronly":
        if args.log:
            cli.say("user only: recording your playing, no model")
        else:
            cli.warn("user only without --log: nothing is being recorded and no model plays. To record your "
                     "playing into logs/ for a dataset, start again with --log")
    else:
        weights, description, trained = choose_weights(args.dimension, size, model_file=args.modelfile)
        (cli.say if trained else cli.warn)(description)
        if args.engine == "keras":
            filter_tensorflow_noise()
        predictor = Predictor(make_network(weights, args.engine), args.pitemp, args.sigmatemp)
    config = ServerConfig(args.dimension, args.mode, args.serverip, args.serverport, args.clientip, args.clientport,
                          "logs" if args.log else None, args.callresponsethresh, args.verbose)
    if not is_loopback(args.serverip):
        cli.warn(f"listening on {args.serverip}: anyone on that network can play this instrument")
    server = PerformanceServer(config, predictor, report=cli.say)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    cli.say(f"{args.mode}: listening for /interface on {args.serverip}:{args.serverport}, "
            f"sending /prediction to {args.clientip}:{args.clientport}" +
            (f", logging to {server.log.path}" if server.log else "") + ". Ctrl-C stops.")
    stop.wait()
    server.stop()
    cli.say(f"stopped: {server.summary()}")


if __name__ == "__main__":
    from imps.osc import OSCError
    from imps.weights import WeightsError

    cli.run(main, (WeightsError, OSCError))
