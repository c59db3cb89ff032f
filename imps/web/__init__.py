"""The web page: play, watch and command a running performance from a browser, in the
performance's own process. Imports core, perform and learn, never TensorFlow."""
