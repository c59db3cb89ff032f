"""From logs to a model that plays: datasets, the Keras model, training, evaluation,
procedural performances and pictures. Imports imps.core, and imps.perform where it
plays a model as the stage does."""
