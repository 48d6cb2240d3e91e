# Privacy request pipeline. `make dev` runs it locally; `make test` tests it.
SHELL := bash
.DEFAULT_GOAL := help

FUNCTIONS := $(notdir $(wildcard functions/*))
# The data-source registry bundled with the workflow functions, and the
# company's policy on top of the law (none: the law alone).
REGISTRY ?= internal/devstack/demo-sources.yaml
POLICY ?=
GO_TEST_FLAGS ?= -count=1 -timeout 15m

# CDK in Go runs on jsii, which needs Node and writable caches in the workspace.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(CURDIR)/.jsii-cache
export CDK_HOME := $(CURDIR)/.cdk-home

.PHONY: help
help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# The local stack needs moto. The one installed is used (moto_server on the
# PATH, or importable by python3); where there is none, the pinned version
# goes into a virtual environment inside the project (.venv), from PyPI,
# which must then be reachable. Nothing is installed outside the project.
MOTO_VERSION := 5.2.1
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)

.PHONY: check-tools
check-tools:
	@command -v go >/dev/null || { echo "Go 1.26+ is required: https://go.dev/dl/"; exit 1; }
	@command -v python3 >/dev/null || { echo "python3 is required for the local stack (moto)"; exit 1; }
	@if python3 -c 'import moto.server, flask' 2>/dev/null; then \
	  v=$$(python3 -c 'import moto; print(moto.__version__)'); \
	  echo "local AWS: moto $$v from $$(command -v python3)$$([ "$$v" = "$(MOTO_VERSION)" ] || echo " (tested with $(MOTO_VERSION))")"; \
	else \
	  echo "local AWS: moto is not installed; installing moto[server]==$(MOTO_VERSION) from PyPI into .venv"; \
	  { python3 -m venv $(VENV) && $(VENV)/bin/python3 -m pip install --disable-pip-version-check -q 'moto[server]==$(MOTO_VERSION)'; } || { \
	    rm -rf $(VENV); \
	    echo "could not install moto into .venv: PyPI (or your pip index) must be reachable, or install moto[server]==$(MOTO_VERSION) yourself"; exit 1; }; \
	fi
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || echo "note: Chromium is missing, so the browser test of the web form skips (Debian: apt-get install chromium)"

.PHONY: dev
dev: check-tools ## Start the local stack in the foreground (Ctrl-C stops it)
	go build -o build/local/devstack ./cmd/devstack
	./build/local/devstack $(if $(POLICY),-policy $(POLICY))

# The browser test checks every page with this pinned axe-core.
AXE := internal/e2e/axe/node_modules/axe-core/axe.min.js

$(AXE): internal/e2e/axe/package-lock.json
	@command -v npm >/dev/null || { echo "npm is required for the accessibility check of the browser test (Node.js 20+)"; exit 1; }
	npm ci --prefix internal/e2e/axe --no-audit --no-fund
	@touch $(AXE)

.PHONY: test
test: check-tools $(AXE) ## Run every test: unit, end-to-end on the local stack, infrastructure, the deployed binaries
	go vet ./...
	go test $(GO_TEST_FLAGS) ./...
	$(MAKE) --no-print-directory smoke-binaries

.PHONY: bench
bench: check-tools ## Measure how the rules read the corpus of request letters, the S3 scanners, state transitions per request, binary sizes and cold starts: "name value unit" per line
	go run ./cmd/bench
	@set -o pipefail; $(MAKE) --no-print-directory -s smoke-binaries | grep -E '^[a-z0-9_-]+ [-0-9.]+ [A-Za-z]+$$'

# Flags of `make chaos` and `make load`, e.g. CHAOS_FLAGS="--seed 3 --rate 0.2"
# LOAD_FLAGS="--rps 4 --duration 60s" or LOAD_FLAGS="--url http://127.0.0.1:8080".
CHAOS_FLAGS ?=
LOAD_FLAGS ?=

.PHONY: chaos
chaos: check-tools ## 50 mixed requests under injected AWS faults and killed invocations; checks none is lost or miscounted (a few minutes)
	go run ./cmd/chaos $(CHAOS_FLAGS)

.PHONY: load
load: check-tools ## Send submissions to the local API at a fixed rate (20/s for 20 s); latency, errors, and that none is lost
	go run ./cmd/load $(LOAD_FLAGS)

.PHONY: build
# The functions are built in one go build (in parallel, sharing its work),
# each with the same flags: static, stripped (-s -w), without local paths
# (-trimpath), and without the RPC mode of aws-lambda-go that the provided
# runtime does not use (lambda.norpc). FN_ARCH and BUILD_DIR change only
# where: make smoke-binaries builds the same for this machine.
FN_ARCH ?= arm64
BUILD_DIR ?= build
build: ## Build every Lambda function for arm64 (build/<fn>/bootstrap)
	@mkdir -p $(BUILD_DIR)/.bin
	GOOS=linux GOARCH=$(FN_ARCH) CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags "-s -w" \
	  -o $(BUILD_DIR)/.bin/ $(addprefix ./functions/,$(FUNCTIONS))
	@for fn in $(FUNCTIONS); do \
	  mkdir -p $(BUILD_DIR)/$$fn && mv $(BUILD_DIR)/.bin/$$fn $(BUILD_DIR)/$$fn/bootstrap; \
	  cp $(REGISTRY) $(BUILD_DIR)/$$fn/sources.yaml; \
	  if [ -n "$(POLICY)" ]; then cp $(POLICY) $(BUILD_DIR)/$$fn/policy.yaml; else rm -f $(BUILD_DIR)/$$fn/policy.yaml; fi; \
	done
	@rmdir $(BUILD_DIR)/.bin

.PHONY: smoke-binaries
smoke-binaries: check-tools ## Run every function's binary under the Lambda runtime interface emulator against a local stack: "name value unit" per line
	$(MAKE) --no-print-directory build FN_ARCH=$(shell go env GOARCH) BUILD_DIR=build/host
	go build -C tools/rie -o ../../build/tools/aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
	cd infra && CDK_OUTDIR=../build/smoke \
	  CDK_CONTEXT_JSON='{"assetDir":"$(abspath build/host)","registryFile":"$(abspath $(REGISTRY))"}' go run .
	go run ./cmd/smoke -build build/host -rie build/tools/aws-lambda-rie -template build/smoke/PrivacyPipeline.template.json

.PHONY: lint
lint: ## go vet, staticcheck, and govulncheck where its database is reachable
	go vet ./...
	go tool staticcheck ./...
	@if go tool govulncheck -version >/dev/null 2>&1 && curl -sf -m 5 -o /dev/null https://vuln.go.dev/index/db.json.gz; then \
	  go tool govulncheck ./...; \
	else \
	  echo "govulncheck: vulnerability database unreachable from here; skipped (runs where it is reachable)"; \
	fi

.PHONY: synth
MAIL_FROM ?= privacy@example.com
OPERATOR_EMAIL ?=
# Defaults of the stack's parameters: the privacy inbox (default MAIL_FROM)
# and the origins allowed to call the API from browsers (comma-separated).
INBOX_ADDRESS ?=
ALLOWED_ORIGINS ?=
# Parameters to set at deploy time, e.g. PARAMETERS="ThrottleRateLimit=20 ThrottleBurstLimit=40".
PARAMETERS ?=
# The local stack (make dev) as SAM's containers reach it, for cdk.out/sam-env.json.
SAM_ENDPOINT ?= http://host.docker.internal:4566

synth: build ## Synthesize the CloudFormation template offline (cdk.out/); MAIL_FROM, OPERATOR_EMAIL, INBOX_ADDRESS, ALLOWED_ORIGINS, REGISTRY, POLICY set it up
	cd infra && CDK_OUTDIR=../cdk.out \
	  CDK_CONTEXT_JSON='{"mailFrom":"$(MAIL_FROM)","operatorEmail":"$(OPERATOR_EMAIL)","inboxAddress":"$(INBOX_ADDRESS)","allowedOrigins":"$(ALLOWED_ORIGINS)","registryFile":"$(abspath $(REGISTRY))","policyFile":"$(if $(POLICY),$(abspath $(POLICY)))"}' \
	  go run .
	go run ./cmd/devstack -write-sam-env cdk.out/sam-env.json -endpoint $(SAM_ENDPOINT)
	@echo "template: cdk.out/PrivacyPipeline.template.json; sam local invoke --env-vars: cdk.out/sam-env.json"

CDK := .cdk-cli/node_modules/.bin/cdk

$(CDK): .cdk-cli/package-lock.json
	@command -v npm >/dev/null || { echo "npm is required for the CDK CLI (Node.js 20+)"; exit 1; }
	npm ci --prefix .cdk-cli --no-audit --no-fund
	@touch $(CDK)

.PHONY: deploy
deploy: synth $(CDK) ## Deploy with the pinned CDK CLI to the account and region of your AWS credentials
	$(CDK) deploy --app cdk.out --require-approval broadening $(addprefix --parameters ,$(PARAMETERS))

.PHONY: clean
clean: ## Remove build outputs
	rm -rf build cdk.out
