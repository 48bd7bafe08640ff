# turbindex: build, demo, tests and benchmarks. Everything needs only Go.
GO      ?= go
BIN     ?= bin
OUT     ?= out
FUZZTIME ?= 15s
# Build tags of the CPU build: openblas where libopenblas-dev is installed (scripts/go-tags).
TAGS    ?= $(shell scripts/go-tags)

.PHONY: all build build-mpi build-mpich demo demo-extras test vet fuzz bench clean

all: build

build:
	$(GO) build -tags "$(TAGS)" -o $(BIN)/ ./sim ./train ./analysis

# sim with the system MPI through cgo (Open MPI: apt install openmpi-bin libopenmpi-dev),
# for mpirun/srun; it also runs without a launcher, with in-process ranks.
build-mpi:
	$(GO) build -tags mpi -o $(BIN)/sim ./sim

# The same with MPICH (apt install mpich libmpich-dev); run it with mpirun.mpich or srun --mpi=pmi2.
build-mpich:
	$(GO) build -tags mpi,mpich -o $(BIN)/sim ./sim

# The study on this machine in a few minutes (see scripts/demo.sh for the sizes):
# simulations, CNNs, baselines, degradations, report. Prints the report's path and
# the headline accuracies.
demo:
	scripts/demo.sh

# The longer parts on the demo's campaign (transfer learning, hyper-parameter search,
# zoom augmentation, the autoencoder), added to the demo's report.
demo-extras: demo
	scripts/demo-extras.sh

# The full suite: vet, every test, and short fuzzes of the snapshot, FITS and image-cache readers.
test: vet
	$(GO) test -count=1 -timeout 20m ./...
	@case " $(TAGS) " in \
	*" openblas "*) echo "$(GO) test -tags openblas ./train/cnn"; $(GO) test -count=1 -tags openblas ./train/cnn ;; \
	*) echo "skipping the OpenBLAS path of train/cnn: no libopenblas-dev (apt install libopenblas-dev)" ;; \
	esac
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./sim/snapshot
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 5s ./fits
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime 5s ./train/autoenc
	$(GO) test -run '^$$' -fuzz '^FuzzParseSpace$$' -fuzztime 5s ./train/search
	$(GO) test -run '^$$' -fuzz '^FuzzCache$$' -fuzztime $(FUZZTIME) ./train/dataset

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# Benchmarks (figures for the issue notes); not part of the test suite.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./sim/...

clean:
	rm -rf $(BIN) $(OUT)
