#!/usr/bin/env python3
"""IMPS performance server: listens for /interface, plays the model's /prediction."""

import os

# One BLAS thread: a step's matrices are small, and a second thread only adds waiting
# for it, badly so when another program has the other core. Set before numpy loads.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import signal  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

from imps import cli  # noqa: E402
from imps.config import ServerConfig  # noqa: E402
from imps.engine import ENGINES, KERAS_ENGINE  # noqa: E402
from imps.interaction import BATTLE, CALL_RESPONSE, POLYPHONY, USER_ONLY  # noqa: E402
from imps.names import LOGS_DIR, log_name  # noqa: E402

DESCRIPTION = """Interactive Musical Prediction System: a mixture density RNN that listens to your
interface over OSC (/interface x1 ... xN) and plays back its predictions (/prediction x1 ... xN).
Send /temperature SIGMA PI and /timescale FACTOR to change sampling and tempo while playing."""
DEFAULTS = ServerConfig()


def parse_args():
    parser = cli.Parser(description=DESCRIPTION)
    cli.add_dimension(parser)
    parser.add_argument("-l", "--log", action="store_true",
                        help=f"log every event to {LOGS_DIR}/{log_name('YYYY-MM-DDTHH-MM-SS', '{D}')} for making "
                             "datasets")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every event in and every prediction out, one line each, with the predictions "
                             "the model makes silently while you play in call and response")
    modes = parser.add_argument_group("modes (choose one; default: call and response)").add_mutually_exclusive_group()
    modes.add_argument("-o", "--only", dest="mode", action="store_const", const=USER_ONLY,
                       help="user only: no model and no predictions; with --log it records your playing for a "
                            "dataset, without --log nothing is recorded")
    modes.add_argument("-c", "--call", dest="mode", action="store_const", const=CALL_RESPONSE,
                       help="call and response: the model listens while you play and answers when you stop "
                            "for --callresponsethresh seconds")
    modes.add_argument("-p", "--polyphony", dest="mode", action="store_const", const=POLYPHONY,
                       help="polyphony: the model answers every event you play")
    modes.add_argument("-b", "--battle", dest="mode", action="store_const", const=BATTLE,
                       help="battle: the model plays on by itself from its own predictions, whatever you play")
    parser.set_defaults(mode=DEFAULTS.mode)
    parser.add_argument("--callresponsethresh", type=float, default=DEFAULTS.call_response_threshold,
                        metavar="SECONDS",
                        help="seconds of quiet before the model answers in call and response (default: %(default)s)")
    parser.add_argument("--clientip", default=DEFAULTS.client_ip,
                        help="address /prediction is sent to, your synth (default: %(default)s)")
    parser.add_argument("--clientport", type=int, default=DEFAULTS.client_port,
                        help="port /prediction is sent to (default: %(default)s)")
    parser.add_argument("--serverip", default=DEFAULTS.server_ip,
                        help="address to listen on for /interface (default: %(default)s)")
    parser.add_argument("--serverport", type=int, default=DEFAULTS.server_port,
                        help="port to listen on (default: %(default)s)")
    cli.add_modelsize(parser)
    parser.add_argument("--modelfile", metavar="PATH",
                        help="perform with this weights file (a .weights.h5 from the trainer or an original IMPS .h5) "
                             "instead of looking in models/")
    cli.add_temperatures(parser)
    parser.add_argument("--engine", choices=ENGINES, default=DEFAULTS.engine,
                        help="numpy (fast, no TensorFlow) or keras (the same model through TensorFlow, for "
                             "comparison) (default: %(default)s)")
    args = parser.parse_args()
    return ServerConfig(dimension=args.dimension, mode=args.mode, server_ip=args.serverip, server_port=args.serverport,
                        client_ip=args.clientip, client_port=args.clientport,
                        logs_dir=Path(LOGS_DIR) if args.log else None,
                        call_response_threshold=args.callresponsethresh, verbose=args.verbose,
                        model_size=args.modelsize, model_file=Path(args.modelfile) if args.modelfile else None,
                        sigma_temp=args.sigmatemp, pi_temp=args.pitemp, engine=args.engine)


def weights_line(chosen, dimension: int, size) -> str:
    """What the performer plays, and for the default or an untrained model how to play one's own."""
    from imps.weights import Choice, describe

    d = dimension
    if chosen.choice in (Choice.NAMED, Choice.TRAINED):
        return f"performing with {chosen.path}"
    train = f"{cli.TRAINER} --dimension={d} --modelsize={size.name}"
    if chosen.choice is Choice.OTHER_SIZE:
        return (f"no trained weights of size {size.name} at {chosen.looked_for[0]}; performing with your own "
                f"{describe(chosen.weights.config, with_dimension=False)} at {chosen.path}. For size {size.name}, "
                f"run {train}")
    if chosen.choice is Choice.DEFAULT:
        w = chosen.weights
        size_note = "" if w.config == size.config(d) else \
            f", {w.layers} layers of {w.units} units whatever --modelsize says"
        return (f"no trained weights at {chosen.looked_for[0]}; playing the default model {chosen.path} (trained on "
                f"procedural performances, not on you{size_note}). To play a model of your own, record with --log, "
                f"then run {cli.COLLATE} --dimension={d} and {train}")
    return (f"no trained weights at {chosen.looked_for[0]} (nor {chosen.looked_for[1].name}), and no default model "
            f"for dimension {d}: performing with an UNTRAINED model, which plays noise. Train one with {train}, or "
            "name a file with --modelfile")


def main():
    config = parse_args()
    from imps.engine import Predictor, make_network
    from imps.model import model_size, resolve_sampling
    from imps.osc import is_loopback
    from imps.server import PerformanceServer
    from imps.tfnoise import filter_tensorflow_noise
    from imps.weights import Choice, choose_weights

    predictor = None
    if config.mode == USER_ONLY:
        if config.logs_dir is not None:
            cli.say("user only: recording your playing, no model")
        else:
            cli.warn("user only without --log: nothing is being recorded and no model plays. To record your "
                     "playing into logs/ for a dataset, start again with --log")
    else:
        size = model_size(config.model_size)
        chosen = choose_weights(config.dimension, size, model_file=config.model_file)
        (cli.warn if chosen.choice is Choice.UNTRAINED else cli.say)(weights_line(chosen, config.dimension, size))
        if config.engine == KERAS_ENGINE:
            filter_tensorflow_noise()
        sampling, sampling_line = resolve_sampling(config.pi_temp, config.sigma_temp, chosen.weights.sampling)
        cli.say(sampling_line)
        predictor = Predictor(make_network(chosen.weights, config.engine), sampling.pi_temp, sampling.sigma_temp)
    if not is_loopback(config.server_ip):
        cli.warn(f"listening on {config.server_ip}: anyone on that network can play this instrument")
    server = PerformanceServer(config, predictor, report=cli.say)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    cli.say(f"{config.mode}: listening for /interface on {config.server_ip}:{config.server_port}, "
            f"sending /prediction to {config.client_ip}:{config.client_port}" +
            (f", logging to {server.log.path}" if server.log else "") + f". {cli.READY}")
    stop.wait()
    server.stop()
    cli.say(f"stopped: {server.summary()}")


if __name__ == "__main__":
    cli.run(main)
