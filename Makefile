# GGZY Push. `make run` and `make test` install what is missing, then work.
SHELL := /bin/bash
CARGO ?= cargo
NPM ?= npm
TARGET := $(or $(CARGO_TARGET_DIR),target)
GGZY := $(TARGET)/debug/ggzy
DESKTOP := $(TARGET)/debug/ggzy-desktop
# cargo-installed tools (tauri-driver) live here.
export PATH := $(HOME)/.cargo/bin:$(PATH)

# What the desktop app, its end-to-end tests and the sync server's tests (a
# PostgreSQL each test starts itself) need from Debian 12.
DEBS := libwebkit2gtk-4.1-dev libsoup-3.0-dev librsvg2-dev libayatana-appindicator3-dev \
        libssl-dev libxdo-dev pkg-config xvfb xauth webkit2gtk-driver dbus fonts-noto-cjk gnome-keyring xdotool \
        postgresql faketime poppler-utils
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: deps debs ui run server test lint ui-test e2e bench bench-start bench-dispatch bench-sync bench-draw package clean

# The Rust toolchain and Node come with the machine; the rest is installed here.
deps: debs ui/node_modules/.installed
	@command -v $(CARGO) >/dev/null || { echo "需要 Rust 工具链（cargo）：请先安装 rustup"; exit 1; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy
	@command -v tauri-driver >/dev/null || $(CARGO) install tauri-driver --locked --version '^2'

debs:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "安装系统依赖：$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

ui/node_modules/.installed: ui/package.json ui/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "需要 Node.js 20 与 npm：请先安装"; exit 1; }
	cd ui && $(NPM) ci --no-audit --no-fund
	touch $@

# The web UI, type-checked and built into ui/dist (the app embeds it).
ui: deps
	cd ui && $(NPM) run build

# The desktop app on the demo center (its own file, demo.db, seeded on first
# start; it sends nothing anywhere; accounts in the README). Without
# GGZY_DEMO=1 the app opens the center's own database, set up on first start.
run: ui
	$(CARGO) build -p ggzy-desktop
	GGZY_DEMO=1 $(DESKTOP)

# A sync server to try on this machine: its own PostgreSQL in $(TARGET)/server
# (created on first use), ggzy-server at 127.0.0.1:8790, one enrolled demo
# device (its token in $(TARGET)/server/demo-device.token). Ctrl-C stops both.
server: debs
	$(CARGO) build -p ggzy-server -p ggzy-cli
	crates/server/local/run $(TARGET)/server $(TARGET)/debug/ggzy-server

lint: ui
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

ui-test: deps
	cd ui && $(NPM) test

test: lint ui-test
	$(CARGO) test --workspace --exclude ggzy-e2e
	@test -z "$$(git status --porcelain -- ui/src/api/bindings 2>/dev/null)" || { git status --short -- ui/src/api/bindings; \
	  echo "TypeScript 类型与 Rust 不一致：cargo test 已重新生成 ui/src/api/bindings，请提交"; exit 1; }
	$(MAKE) e2e

# The real app in a real WebKit window, driven by WebDriver, on a virtual
# display and its own session bus (with a throwaway, unlocked gnome-keyring
# for channel secrets): nothing outlives the run.
e2e: ui
	$(CARGO) build -p ggzy-desktop -p ggzy-cli
	xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session -- tests/e2e/with-keyring $(CARGO) test -p ggzy-e2e -- --test-threads=1
	@echo "截图：$(TARGET)/e2e-screens/"

# The bench runs the real `ggzy` built beside it: build both, so it never times a stale binary.
# Each bench ends with one `MISSED:` line per target missed and fails if
# any is; all four run either way, and `make bench` fails at the end.
bench: deps
	$(CARGO) build --release -p ggzy-cli -p ggzy-bench
	@ok=0; \
	$(TARGET)/release/ggzy-bench $(BENCH_ARGS) || ok=1; \
	$(MAKE) bench-start || ok=1; \
	$(MAKE) bench-dispatch || ok=1; \
	$(MAKE) bench-sync || ok=1; \
	$(MAKE) bench-draw || ok=1; \
	if [ $$ok = 1 ]; then echo "make bench: a target was missed (the MISSED: lines above)"; fi; \
	exit $$ok

# An expert draw over a pool of 50,000 beside the time to read the pool.
bench-draw: deps
	$(CARGO) build --release -p ggzy-bench --bin ggzy-drawbench
	$(TARGET)/release/ggzy-drawbench

# Dispatch rate to a loopback SMS gateway (its own process) beside what the
# load generator oha gets from it, and idle-queue latency, in one run.
bench-dispatch: deps
	@command -v oha >/dev/null || $(CARGO) install oha --locked --version '^1'
	$(CARGO) build --release -p ggzy-providers --bin ggzy-fake-gateway
	$(CARGO) build --release -p ggzy-bench --bin ggzy-dispatchbench
	$(TARGET)/release/ggzy-dispatchbench $(DISPATCH_ARGS)

# A desktop's 100,000 records uploaded to the sync server beside PostgreSQL's
# COPY of the same rows (its own PostgreSQL, started and stopped by the bench),
# the download of 200,000, and the year posted to the server's intake beside
# `ggzy import` of the same file.
bench-sync: debs
	$(CARGO) build --release -p ggzy-cli -p ggzy-bench --bin ggzy-syncbench --bin ggzy
	$(TARGET)/release/ggzy-syncbench

# Cold start and idle memory of the app beside an empty Tauri window, both
# release builds of the same Tauri, in one run (START_ROUNDS rounds, default 5).
bench-start: ui
	$(CARGO) build --release -p ggzy-desktop -p ggzy-empty-window -p ggzy-cli
	$(CARGO) build --release -p ggzy-e2e --bin ggzy-startbench
	xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session -- $(TARGET)/release/ggzy-startbench $(START_ROUNDS)

# A .deb for Debian-family office systems (UOS, Kylin) with Tauri's bundler:
# the app without debug info, its menu entry and icons, its dependencies
# declared; then checked, and its binary started to the login screen.
package: ui
	$(CARGO) build -p ggzy-e2e --tests
	ui/node_modules/.bin/tauri build --bundles deb \
	  --config '{"build":{"beforeBundleCommand":"strip --strip-debug $(abspath $(TARGET))/release/ggzy-desktop"}}'
	CARGO=$(CARGO) tests/package/check $(TARGET)/release/bundle/deb/ggzy-push_0.1.0_amd64.deb
	@echo "安装包：$(TARGET)/release/bundle/deb/ggzy-push_0.1.0_amd64.deb"

clean:
	$(CARGO) clean
	rm -rf ui/dist ui/node_modules
