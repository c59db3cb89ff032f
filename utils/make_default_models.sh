#!/usr/bin/env bash
# Remake the default models in models/default/: for each dimension, a corpus of
# procedural performances (utils/make_corpus.py), collated by generate_dataset.py and
# trained at size xs by train_predictive_music_model.py, exactly as a musician's logs
# would be. predictive_music_model.py plays these when the musician has no weights of
# their own for the dimension (see imps/weights.py, choose_weights).
#
#   utils/make_default_models.sh              # dimensions 2 to 9, about 3 minutes each
#   DIMENSIONS="9" utils/make_default_models.sh
#   WORK=/tmp/defaults utils/make_default_models.sh   # keep the corpora, datasets and loss plots there
#
# Training runs inside $WORK, so its models/ and logs/tensorboard/ are written there,
# not into this project's; only the final weights are copied into models/default/.
# The corpora are the same for the same seed; training is not seeded, so a remade
# model plays alike but is not the same file.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
WORK="${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/imps-defaults.XXXXXX")}"
DIMENSIONS="${DIMENSIONS:-2 3 4 5 6 7 8 9}"
PERFORMANCES="${PERFORMANCES:-100}"  # logs per corpus: many short ones, so that the model learns to
MINUTES="${MINUTES:-0.8}"            # follow wherever the faders are rather than remember a few places
SEED="${SEED:-1}"
EPOCHS="${EPOCHS:-4}"                # after the trainer's warm-up: about 3 minutes on 2 CPU cores
BATCH="${BATCH:-32}"                 # smaller batches: more updates in the same time

mkdir -p "$ROOT/models/default" "$WORK"
echo "working in $WORK"
for D in $DIMENSIONS; do
    began=$SECONDS
    name="musicMDRNN-dim${D}-layers2-units32-mixtures5-scale10.weights.h5"
    "$PYTHON" "$ROOT/utils/make_corpus.py" --dimension="$D" --performances "$PERFORMANCES" --minutes "$MINUTES" \
        --out "$WORK/corpus/${D}d" --seed "$SEED" --overwrite
    "$PYTHON" "$ROOT/generate_dataset.py" -d "$D" -s "$WORK/corpus/${D}d" -o "$WORK/datasets"
    (cd "$WORK" && nice -n 19 "$PYTHON" "$ROOT/train_predictive_music_model.py" -d "$D" --modelsize=xs \
        --dataset "datasets/training-dataset-${D}d.npz" -n "$EPOCHS" -b "$BATCH" --earlystopping) \
        2>&1 | tee "$WORK/train-${D}d.txt"
    cp "$WORK/models/$name" "$ROOT/models/default/.$name.tmp"
    chmod 644 "$ROOT/models/default/.$name.tmp"
    mv "$ROOT/models/default/.$name.tmp" "$ROOT/models/default/$name"
    echo "models/default/$name: $(du -k "$ROOT/models/default/$name" | cut -f1) KB, $((SECONDS - began)) s"
done
