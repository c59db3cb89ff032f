"""imps.core.notices: every notice the performance server's threads tell, in the words the
musician reads (the threads' own tests check when they tell)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imps.core.notices import (EventShown, LogContinued, LogWriteFailed, MidiPortBack, MidiPortGone,
                               MidiPortsUnreadable, ModelReset, ModeSet, NoModelToCommand, Notice, OscRejected,
                               PauseSet, TemperaturesSet, TimescaleSet, TurnTaken, ValueOutOfRange, WaitCapped, say,
                               words)


def test_a_log_going_on_in_a_new_file_names_both():
    notice = LogContinued(Path("logs/a-4d-mdrnn.log"), 100_000_000, Path("logs/b-4d-mdrnn.log"))
    assert words(notice) == "log: logs/a-4d-mdrnn.log reached 100,000,000 bytes; going on in logs/b-4d-mdrnn.log"


def test_a_log_that_cannot_be_written_is_a_warning_saying_what_is_kept():
    assert words(LogWriteFailed(Path("logs/a-4d-mdrnn.log"), "No space left on device")) == (
        "warning: could not write to the log logs/a-4d-mdrnn.log (No space left on device). IMPS plays on without "
        "logging: every line before this one is in the log whole, the lines from now on are not written, and the "
        "summary at the end counts them")


def test_a_value_out_of_range_is_a_warning_naming_the_control_and_how_to_scale():
    assert words(ValueOutOfRange(64.0, 2, 3)) == (
        "warning: /interface value 64 for control 2 of 3 is outside 0-1. The log keeps what you sent; the model (and "
        "any dataset made from the log) use it clipped to 0-1. Scale your controls to 0-1 (a MIDI value 0-127 "
        "divided by 127; over serial, --serialscale divides raw readings). Said once; the summary at the end counts "
        "them")
    assert words(ValueOutOfRange(-0.25, 1, 8)).startswith("warning: /interface value -0.25 for control 1 of 8 ")


def test_a_capped_wait_is_a_warning_giving_both_waits():
    assert words(WaitCapped(3600.0, 0.02)) == (
        "warning: the model predicted a wait of 3600.0 s before its next event; it waits 0.02 s instead, the longest "
        "wait allowed, and goes on from there (so it never falls silent for long). Said once; the summary at the end "
        "counts capped waits")


def test_each_turn_of_call_and_response():
    assert words(TurnTaken(model_plays=True)) == "call and response: the model plays (response)"
    assert words(TurnTaken(model_plays=False)) == "call and response: the musician plays (call)"


def test_verbose_events_say_who_played_the_wait_and_the_values_to_three_places():
    values = np.array([0.25, 0.75])
    assert words(EventShown(0.0, [0.5, 1.0], by_model=False)) == "user: dt 0.000 0.500 1.000"
    assert words(EventShown(np.float64(0.01), values, by_model=True)) == "model: dt 0.010 0.250 0.750"
    assert words(EventShown(0.01, values, by_model=True, silent=True)) == "model (silent): dt 0.010 0.250 0.750"


def test_a_midi_port_that_goes_and_comes_back():
    assert words(MidiPortGone("input", "X-TOUCH MINI:0", "x-touch")) == (
        "MIDI input 'X-TOUCH MINI:0' has gone: IMPS plays on over OSC and reconnects when a port named like "
        "'x-touch' appears again")
    assert words(MidiPortBack("output", "synth:in")) == "MIDI output 'synth:in' is back: reconnected"


def test_midi_ports_that_cannot_be_read_are_a_warning_that_osc_plays_on():
    assert words(MidiPortsUnreadable("MidiInAlsa: error looking for port name!")) == (
        "warning: the MIDI ports cannot be read (MidiInAlsa: error looking for port name!); IMPS plays on over OSC")


def test_an_osc_rejection_is_a_warning_with_how_many_were_held_back():
    assert words(OscRejected("messages to /nobody are not understood")) == (
        "warning: messages to /nobody are not understood")
    assert words(OscRejected("/interface dropped: expected 2 floats, got 1 arguments", held_back=3)) == (
        "warning: /interface dropped: expected 2 floats, got 1 arguments (3 more warnings held back)")


def test_temperatures_and_timescale_as_set():
    assert words(TemperaturesSet(0.5, 2.0)) == "temperatures: sigma 0.5, pi 2"
    assert words(TimescaleSet(0.25)) == "timescale: 0.25"


def test_the_commands_while_playing_as_carried_out():
    assert words(ModeSet("battle")) == "mode: battle"
    assert words(ModelReset()).startswith("model reset: ")
    assert words(PauseSet(True)).startswith("paused: the model sends nothing until resumed; your playing is still")
    assert words(PauseSet(False)) == "resumed: the model plays again"


def test_a_command_in_user_only_without_a_model_is_a_warning_saying_how_to_get_one():
    line = words(NoModelToCommand("/reset"))
    assert line.startswith("warning: /reset: user only has no model") and line.endswith("Said once")
    assert "start IMPS in another mode" in line


def test_a_notice_without_words_is_refused():
    with pytest.raises(TypeError, match="no words for"):
        words(Notice())


def test_say_prints_the_words(capsys):
    say(TimescaleSet(2.0))
    assert capsys.readouterr().out == "timescale: 2\n"
