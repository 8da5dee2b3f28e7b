# The bundled trained model (models/train/README.md): the committed GGUF,
# the script that trains it and the reference figures the tests read.
# `make train-model` retrains it (needs `.ci/deps --train`; not part of
# all or check) into models/train/out and says whether the loss curve
# matches the committed one.

TRAINED_MODEL = models/kjv-bitnet-3M-I2_S.gguf
TRAIN_PY3 = /usr/bin/python3
EXTRA_DIST += $(TRAINED_MODEL) models/train/README.md models/train/local.mk \
	models/train/train.py models/train/data.py models/train/bpe.py models/train/model.py \
	models/train/export.py models/train/reference.py models/train/plot.py \
	models/train/novelty.py \
	models/train/ref/loss.csv models/train/ref/loss.svg models/train/ref/reference.json \
	models/train/ref/reference-logits.f32 models/train/ref/heldout.txt \
	models/train/ref/train.log

train-model: trit$(EXEEXT)
	rm -rf models/train/out models/train/out.rc
	{ $(TRAIN_PY3) $(srcdir)/models/train/train.py --out models/train/out; \
		echo $$? >models/train/out.rc; } | tee models/train/out.log
	@test "$$(cat models/train/out.rc)" = 0 || { echo "train-model: train.py failed"; exit 1; }
	./trit$(EXEEXT) convert models/train/out --name kjv-bitnet-3M -o models/train/out/model-I2_S.gguf
	@if cmp -s models/train/out.log $(srcdir)/models/train/ref/train.log; then \
		echo "train-model: the same loss curve as models/train/ref/train.log"; \
	else \
		echo "train-model: the printed curve differs from models/train/ref/train.log:"; \
		diff $(srcdir)/models/train/ref/train.log models/train/out.log | head -20; exit 1; \
	fi
	@if cmp -s models/train/out/model-I2_S.gguf $(srcdir)/$(TRAINED_MODEL); then \
		echo "train-model: models/train/out/model-I2_S.gguf is byte for byte $(TRAINED_MODEL)"; \
	else \
		echo "train-model: models/train/out/model-I2_S.gguf differs from $(TRAINED_MODEL)"; \
	fi

.PHONY: train-model
