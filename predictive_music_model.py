#!/usr/bin/env python3
"""IMPS performance server: listens for /interface, plays the model's /prediction."""

import imps.core.blas  # noqa: F401  (first: one BLAS thread, set before numpy loads)

import argparse
import signal
import threading
from pathlib import Path

from imps.core import cli
from imps.core.errors import MidiMappingError
from imps.core.names import LOGS_DIR, log_name
from imps.perform.config import ENGINES, KERAS_ENGINE, MIDI_APIS, MIN_LOG_BYTES, MidiConfig, SerialConfig, ServerConfig
from imps.perform.interaction import BATTLE, CALL_RESPONSE, MIN_DT, POLYPHONY, USER_ONLY
from imps.perform.midimap import DEFAULT_CHANNEL, default_mapping, port_controls, read_mapping

DESCRIPTION = """Interactive Musical Prediction System: a mixture density RNN that listens to your
interface over OSC (/interface x1 ... xN) and plays back its predictions (/prediction x1 ... xN).
Send /temperature SIGMA PI and /timescale FACTOR to change sampling and tempo while playing,
/mode NAME, /reset and /pause 1|0 to switch modes, start the model afresh and pause it (or, in a
terminal, press m, r and space).
A MIDI controller and synth can play too (--midiin, --midiout), and a microcontroller over USB serial
(--serial), with OSC on at the same time."""
DEFAULTS = ServerConfig()
DEFAULT_WEB_HOST = "127.0.0.1"
TOKEN_ENVIRONMENT = "IMPS_WEB_TOKEN"  # imps.web.security's, named here so that --help loads no web server


def web_address(text: str) -> tuple[str, int]:
    """--web's [HOST:]PORT as the host and port (an IPv6 host in brackets: [::]:8000)."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected [HOST:]PORT, such as 8000 or 0.0.0.0:8000, got {text!r}")
    return host.strip("[]") or DEFAULT_WEB_HOST, int(port)


def parse_args() -> tuple[argparse.Namespace, ServerConfig]:
    parser = cli.Parser(description=DESCRIPTION)
    cli.add_dimension(parser)
    parser.add_argument("-l", "--log", action="store_true",
                        help=f"log every event to {LOGS_DIR}/{log_name('YYYY-MM-DDTHH-MM-SS', '{D}')} for making "
                             "datasets")
    parser.add_argument("--logmax", type=cli.file_size, metavar="SIZE",
                        help="with --log: when a log file reaches SIZE (such as 100MB, 500kB or 2GB; at least "
                             f"{MIN_LOG_BYTES // 1000}kB), close it and go on in a new one named after the time, each "
                             "file a log of its own (default: no limit)")
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
    parser.add_argument("--maxwait", type=float, default=DEFAULTS.max_wait, metavar="SECONDS",
                        help="the longest the model may wait before its next event: a longer predicted wait is cut "
                             "to this (said once, and counted at the end), so that playing by itself it never "
                             "falls silent for long; /timescale multiplies it as it does every wait "
                             "(default: %(default)s)")
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
    parser.add_argument("--nokeys", action="store_true",
                        help="in a terminal, do not read the keys m (the next mode), r (reset the model) and space "
                             "(pause or resume), for when stray keystrokes must not change the performance")
    parser.add_argument("--engine", choices=ENGINES, default=DEFAULTS.engine,
                        help="numpy (fast, no TensorFlow) or keras (the same model through TensorFlow, for "
                             "comparison) (default: %(default)s)")
    parser.add_argument("--web", type=web_address, metavar="[HOST:]PORT",
                        help="serve a web page to play, watch and command the performance from a browser, and OSC "
                             "over WebSocket for browser instruments, on HOST (default: 127.0.0.1, this machine "
                             f"only, no token; on any other address the page needs the token IMPS prints, or "
                             f"{TOKEN_ENVIRONMENT})")
    add_midi_flags(parser)
    add_serial_flags(parser)
    args = parser.parse_args()
    if args.logmax is not None and (not args.log or args.logmax < MIN_LOG_BYTES):
        parser.error(f"--logmax limits the size of each log file: it needs --log, and at least "
                     f"{MIN_LOG_BYTES // 1000}kB")
    if not args.maxwait >= MIN_DT:  # nan too
        parser.error(f"--maxwait must be at least {MIN_DT:g} s, the shortest wait there is")
    config = ServerConfig(dimension=args.dimension, mode=args.mode, server_ip=args.serverip,
                          server_port=args.serverport, client_ip=args.clientip, client_port=args.clientport,
                          logs_dir=Path(LOGS_DIR) if args.log else None,
                          log_max_bytes=args.logmax, call_response_threshold=args.callresponsethresh,
                          max_wait=args.maxwait, verbose=args.verbose,
                          model_size=args.modelsize, model_file=Path(args.modelfile) if args.modelfile else None,
                          sigma_temp=args.sigmatemp, pi_temp=args.pitemp, engine=args.engine,
                          midi=midi_config(parser, args), serial=serial_config(parser, args))
    return args, config


def add_midi_flags(parser: argparse.ArgumentParser) -> None:
    midi = parser.add_argument_group("MIDI (OSC stays on; needs mido and python-rtmidi)")
    midi.add_argument("--midilist", action="store_true",
                      help="print the MIDI input and output ports there are, one a line, and exit")
    midi.add_argument("--midiin", metavar="TEXT", action="append",
                      help="play from the first MIDI input port whose name contains TEXT (any case); give it again "
                           "for another controller")
    midi.add_argument("--midiout", metavar="TEXT", action="append",
                      help="send predictions to the first MIDI output port whose name contains TEXT (any case); "
                           "give it again for another synth")
    midi.add_argument("--midiapi", choices=MIDI_APIS, default=None,
                      help="the MIDI system: alsa (Linux's own) or jack (a running JACK server's MIDI ports) "
                           "(default: python-rtmidi's, ALSA on Linux)")
    midi.add_argument("--midichannel", type=int, metavar="1-16",
                      help="without --midimap: the channel of the control changes, in and out (default: "
                           f"{DEFAULT_CHANNEL})")
    midi.add_argument("--midicc", type=cli.controller_numbers, metavar="CC,CC,...",
                      help="without --midimap: the control change numbers, one per control, in and out "
                           "(default: 1 to dimension-1)")
    midi.add_argument("--midimap", metavar="FILE.toml",
                      help="map MIDI as the [midi] table of an IMPSY configuration file says: its input and output "
                           "entries, and its in_device and out_device where --midiin and --midiout are not given "
                           "(with several devices, one --midiin or --midiout per device, in the file's order)")
    midi.add_argument("--midifeedback", action="store_true",
                      help="feedback protection, for controllers that echo what they receive (motor faders, some "
                           "LED rings): ignore an incoming value equal to one IMPS sent that control within "
                           f"{MidiConfig.feedback_window:g} s")
    midi.add_argument("--mididin", action="store_true",
                      help="the MIDI output is a DIN cable (about 3,000 bytes a second): a prediction due before the "
                           "cable has carried the previous one is not sent over MIDI (OSC still gets it), and the "
                           "summary counts them")


def midi_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> MidiConfig | None:
    """The MIDI settings from the flags, or None when MIDI is not asked for."""
    if args.midimap is None and args.midiin is None and args.midiout is None:
        if args.midichannel is not None or args.midicc is not None or args.midifeedback or args.mididin:
            parser.error("the MIDI flags need a port: name one with --midiin or --midiout")
        return None
    n_values = args.dimension - 1
    if args.midimap is not None:
        if args.midichannel is not None or args.midicc is not None:
            parser.error("--midichannel and --midicc are for the mapping without a file; with --midimap, the file "
                         "says the channels and numbers")
        mapping = read_mapping(args.midimap, n_values)
    else:
        mapping = default_mapping(n_values, DEFAULT_CHANNEL if args.midichannel is None else args.midichannel,
                                  args.midicc)
    try:
        inputs = port_controls(mapping.inputs, args.midiin or [], "--midiin")
        outputs = port_controls(mapping.outputs, args.midiout or [], "--midiout")
    except MidiMappingError as error:  # the flags and the file's devices do not pair up
        parser.error(str(error))
    if not inputs and not outputs:
        parser.error(f"{args.midimap} names no in_device or out_device: name the ports with --midiin or --midiout")
    return MidiConfig(inputs, outputs, args.midiapi,
                      feedback_protection=args.midifeedback or mapping.feedback_protection, din=args.mididin)


def add_serial_flags(parser: argparse.ArgumentParser) -> None:
    serial = parser.add_argument_group("serial: an Arduino or Teensy over USB (OSC stays on; needs pyserial)")
    serial.add_argument("--seriallist", action="store_true",
                        help="print the serial ports there are, one a line, and exit")
    serial.add_argument("--serial", metavar="PORT",
                        help="play from a device printing one event a line, N numbers separated by commas, and "
                             "write each prediction back as a line: PORT is a path (/dev/ttyACM0) or text in the "
                             "name of one of the ports --seriallist shows")
    serial.add_argument("--baud", type=int, default=SerialConfig.baud,
                        help="with --serial: the speed in the sketch's Serial.begin (default: %(default)s)")
    serial.add_argument("--serialscale", type=float, default=SerialConfig.scale, metavar="MAX",
                        help="with --serial: divide each number read by MAX, such as 1023 for analogRead as it is "
                             "(default: %(default)g, numbers already 0-1)")


def serial_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> SerialConfig | None:
    """The serial settings from the flags, or None when serial is not asked for."""
    if args.serial is None:
        if args.baud != SerialConfig.baud or args.serialscale != SerialConfig.scale:
            parser.error("--baud and --serialscale are for a serial port: name one with --serial")
        return None
    if args.baud <= 0 or not args.serialscale > 0:  # nan too
        parser.error("--baud and --serialscale must be more than 0")
    return SerialConfig(args.serial, args.baud, args.serialscale)


def list_serial_ports() -> None:
    from imps.perform.serial_link import available_ports

    ports = available_ports()
    if not ports:
        cli.say("no serial ports found")
    for port in ports:
        cli.say(f"{port.device}: {port.description}")


def list_midi_ports(api: str | None) -> None:
    from imps.perform.midi import list_ports

    inputs, outputs = list_ports(api)
    if not inputs and not outputs:
        cli.say("no MIDI ports found")
    for name in inputs:
        cli.say(f"in: {name}")
    for name in outputs:
        cli.say(f"out: {name}")


def main():
    args, config = parse_args()
    if args.midilist:
        return list_midi_ports(args.midiapi)
    if args.seriallist:
        return list_serial_ports()
    from imps.perform.engine import NumpyMDRNN
    from imps.perform.keys import KEYS_LINE, KeyCommands, command_keys
    from imps.perform.model_choice import model_to_play
    from imps.perform.osc import is_loopback
    from imps.perform.server import PerformanceServer

    predictor = None
    if config.mode == USER_ONLY:
        if config.logs_dir is not None:
            cli.say("user only: recording your playing, no model")
        else:
            cli.warn("user only without --log: nothing is being recorded and no model plays. To record your "
                     "playing into logs/ for a dataset, start again with --log")
    else:
        network = NumpyMDRNN
        if config.engine == KERAS_ENGINE:  # the reference path, through TensorFlow: learn's
            from imps.learn.tfnoise import filter_tensorflow_noise
            filter_tensorflow_noise()
            from imps.learn.keras_model import KerasMDRNN as network
        model = model_to_play(config, network)
        (cli.warn if model.untrained else cli.say)(model.weights_line)
        cli.say(model.sampling_line)
        predictor = model.predictor
    if not is_loopback(config.server_ip):
        cli.warn(f"listening on {config.server_ip}: anyone on that network can play this instrument")
    server = PerformanceServer(config, predictor, report=cli.say)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    listening = web = None
    if args.web is not None:  # its socket now; the web server itself once the performance is ready
        from imps.web.address import bind, page_url
        from imps.web.security import Access
        try:
            listening = bind(*args.web)
        except BaseException:
            server.stop()  # a port in use stops the performance cleanly, as OSC's does
            raise
        access = Access.for_host(args.web[0])
        cli.say(f"web page: {page_url(listening, access.token)}")
    # Keys only where there is a model for them to act on.
    keys = None if args.nokeys or predictor is None else KeyCommands.for_terminal(command_keys(server.performance))
    try:
        cli.say(f"{config.mode}: listening for /interface on {config.server_ip}:{config.server_port}, "
                f"sending /prediction to {config.client_ip}:{config.client_port}" +
                (f", {server.midi.describe()}" if server.midi else "") +
                (f", {server.serial.describe()}" if server.serial else "") +
                (f", logging to {server.log.path}" if server.log else "") +
                (f". {KEYS_LINE}" if keys else ".") + f" {cli.READY}")
        if listening is not None:  # loaded only now, so that the instrument plays without waiting for it
            from imps.web.library_routes import library_routes
            from imps.web.runner import WebServer
            web = WebServer(listening, server, routes=library_routes(), access=access)
            web.start()
        stop.wait()
    finally:  # the terminal as it was, and the log closed, however IMPS ends
        if keys is not None:
            keys.stop()
        if web is not None:
            web.stop()
        elif listening is not None:
            listening.close()
        server.stop()
    cli.say(f"stopped: {server.summary()}")


if __name__ == "__main__":
    cli.run(main)
