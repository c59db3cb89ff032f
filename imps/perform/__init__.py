"""Playing with a musician: the server, its modes, OSC and MIDI, the numpy engine.
Imports imps.core alone, and never TensorFlow or Keras."""
