"""IMPS, the Interactive Musical Prediction System, in three rooms that stack:

- imps.core: what both sides share (the model's configuration and equations, sampling,
  file names, weights as numpy arrays, the log format, errors, messages);
- imps.perform: the performance server, on core alone (never TensorFlow);
- imps.learn: datasets, the Keras model, training and evaluation, on core and perform.

No module imports upwards (tests/test_layers.py checks by importing). Nothing here is
imported eagerly, so `import imps.core.blas` runs before numpy loads."""
