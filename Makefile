# Two commands do everything on a fresh machine:
#   make book   set up .venv, then build the HTML book (default profile, offline)
#   make test   set up .venv, then lint and run the tests (unit tests, pair sync, smoke book)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?=
DATA_FLAG := $(if $(DATA_DIR),--data-dir $(DATA_DIR),)
HTML := _build/html
PROFILE ?= full
ONLY ?=
ONLY_FLAG := $(if $(ONLY),--only $(ONLY),)

.PHONY: setup book smoke full data publish render rerun sync check test lint bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

book: setup  ## build the book on the embedded offline data
	$(BIN)/python -m helpers.book.build --profile default $(DATA_FLAG)

smoke: setup  ## build the book at tiny sizes (what CI checks)
	$(BIN)/python -m helpers.book.build --profile smoke $(DATA_FLAG)

full: setup  ## build on MNIST, CIFAR-10 and AG News from DATA_DIR (ONLY="chapter ..." for some)
	$(BIN)/python -m helpers.book.build --profile full $(DATA_FLAG) $(ONLY_FLAG)

data: setup  ## download MNIST, CIFAR-10 and AG News into DATA_DIR (default ./data), checksums verified
	$(BIN)/python -c "import sys; from helpers.data import REAL_DATASETS, load_dataset; \
	[print(name, 'ready:', load_dataset(name, data_dir=sys.argv[1], download=True).train.labels.size, 'training examples', flush=True) for name in REAL_DATASETS]" $(or $(DATA_DIR),data)

publish: setup  ## build PROFILE (default full) into _build/html and check it as the Pages artifact (what book.yml uploads)
	$(BIN)/python -m helpers.book.build --profile $(PROFILE) $(DATA_FLAG) $(ONLY_FLAG)
	test -s $(HTML)/index.html || { echo "publish: no $(HTML)/index.html"; exit 1; }
	! grep -rlE '<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//' $(HTML) --include='*.html' \
	  || { echo "publish: the pages above load a script, stylesheet or image from the network"; exit 1; }
	! grep -rlE 'url\(.?(https?:)?//|@import +.?(https?:)?//' $(HTML) --include='*.css' \
	  || { echo "publish: the stylesheets above load a font or file from the network"; exit 1; }
	touch $(HTML)/.nojekyll
	@echo "publish: $(HTML) is ready to upload ($$(find $(HTML) -type f | wc -l) files, $$(du -sh $(HTML) | cut -f1))"

rerun: setup  ## one chapter at new precisions: make rerun CHAPTER=curvature_threshold BITS="3 5 7"
	$(BIN)/python -m helpers.book.build rerun $(CHAPTER) --bits $(BITS)

render: setup  ## re-render the HTML from the notebooks already executed in _build/executed
	$(BIN)/python -m helpers.book.build --render-only

sync: setup  ## rewrite every notebooks/*.ipynb from its .md source
	$(BIN)/python -m helpers.book.build sync

check: setup  ## check that the notebook pairs are in sync
	$(BIN)/python -m helpers.book.build check

lint: setup
	$(BIN)/ruff check src tests notebooks
	$(BIN)/lint-imports

test: lint  ## lint, then unit tests, pair sync and the smoke build of every chapter
	$(BIN)/python -m pytest

bench: setup  ## covering-engine benchmark at the issue's sizes (prints JSON)
	$(BIN)/python -m helpers.bench covering --n 10000 --d 128 --json
	$(BIN)/python -m helpers.bench covering --n 100000 --d 128 --json --skip-reference
	$(BIN)/python -m helpers.bench matmul

clean:
	rm -rf _build
