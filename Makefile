# GGZY Push. `make run` and `make test` install what is missing, then work.
SHELL := /bin/bash
CARGO ?= cargo
DEMO_DB ?= $(HOME)/.local/share/cn.ggzy.push/ggzy.db
GGZY := $(or $(CARGO_TARGET_DIR),target)/debug/ggzy

.PHONY: deps run test lint bench clean

# The Rust toolchain comes with the machine; check it and its components.
deps:
	@command -v $(CARGO) >/dev/null || { echo "需要 Rust 工具链（cargo）：请先安装 rustup"; exit 1; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

# Until the desktop window lands, "the app" is the engine and its CLI on the
# seeded demo database (the same file the desktop app will open).
run: deps
	$(CARGO) build -p ggzy-cli
	$(GGZY) --db "$(DEMO_DB)" demo
	$(GGZY) --db "$(DEMO_DB)" audit verify
	@echo "演示数据库：$(DEMO_DB)；试试：$(GGZY) --db \"$(DEMO_DB)\" pushes --project LH-2026-0110"

lint: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: lint
	$(CARGO) test --workspace

# The bench runs the real `ggzy` built beside it: build both, so it never times a stale binary.
bench: deps
	$(CARGO) build --release -p ggzy-cli -p ggzy-bench
	$(or $(CARGO_TARGET_DIR),target)/release/ggzy-bench $(BENCH_ARGS)

clean:
	$(CARGO) clean
