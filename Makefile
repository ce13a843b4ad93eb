# picket: a thin front for CMake.
#   make            Release build in build/ (the binary is build/picket)
#   make run        install what is missing, build, and start the TAXII server demo
#   make run-match  the detection demo (picket match on generated logs)
#   make check      ASan+UBSan build in build-asan/ and every test
#   make install    PREFIX=/usr/local DESTDIR=
#   make fuzz       libFuzzer targets in build-fuzz/ (clang)
#   make bench      benchmarks (results printed, never asserted)
#   make format     clang-format every C file
PREFIX ?= /usr/local
DESTDIR ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE ?= cmake
FUZZ_SECONDS ?= 60
MAKEFLAGS += --no-print-directory

.PHONY: all deps run run-match check install uninstall fuzz bench format clean

all: build/Makefile
	@$(CMAKE) --build build -j $(JOBS)

build/Makefile: deps-build
	@$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

.PHONY: deps-build
deps-build:
	@scripts/install-deps build

deps:
	@scripts/install-deps build test bench fuzz

run: all
	@scripts/demo build/picket serve

run-match: all
	@scripts/demo build/picket match

check:
	@scripts/install-deps build test
	@$(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPK_SANITIZE=ON >/dev/null
	@$(CMAKE) --build build-asan -j $(JOBS)
	@scripts/run-tests build-asan

install: all
	@$(CMAKE) -S . -B build -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@DESTDIR=$(DESTDIR) $(CMAKE) --install build

fuzz:
	@scripts/install-deps build fuzz
	@CC=clang $(CMAKE) -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPK_FUZZ=ON >/dev/null
	@$(CMAKE) --build build-fuzz -j $(JOBS)
	@scripts/fuzz-all build-fuzz $(FUZZ_SECONDS)

bench: all
	@scripts/install-deps build bench
	@scripts/bench-all build/picket

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
