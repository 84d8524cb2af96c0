# The student management system: infrastructure as code, deployable to AWS or
# to a local emulator. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
# The functions as AWS runs them: Python 3.13 and the older SDK of the Lambda runtime (requirements-runtime.txt).
RUNTIME_VENV := .venv-runtime
# CDK Terrain, the other CDK engine (CDK_ENGINE=cdktn; docs/ENGINES.md): its Python environment and its CLI.
CDKTN_VENV := .venv-cdktn
CDKTN_CLI := engines/cdktn
BUILD := .build

# Settings every tool below shares. ENV chooses the environment (config.toml's [environments]);
# without it every command acts on the local one, the emulator of `make up`. CDK_ENGINE chooses the CDK
# engine (else config.toml's cdk_engine, else cdktf; engine/choice.py).
export ENV
export CDK_ENGINE
export TF_CLI_CONFIG_FILE := $(CURDIR)/$(BUILD)/terraform.rc
export CHECKPOINT_DISABLE := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Terraform and the AWS provider (Go) collect garbage less often: every start of the provider builds the schema of
# ~1,800 resource types, and with Go's default (100) a third of its CPU is the collector. 400 costs ~130 MB more per
# process and saves ~25% of Terraform's CPU (docs/BENCHMARKS.md). Yours is kept when set.
export GOGC ?= 400

.PHONY: help setup up down apply drift status logs api-key staff-token seed emails denials alarm-test backups backup-now verify-email restore staff-add staff-list staff-remove synth plan bootstrap identity identity-check deploy invalidate destroy check check-tests test lint pytest pytest-runtime bench lock clean

# $(call announce[,--aws-only|--local-only]): the command's first line, the environment it acts on
# (pipeline/environment.py). --aws-only refuses without an explicit ENV, --local-only any ENV but local.
announce = @$(PYTHON) -m pipeline.environment $@ $(1)

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# --- set-up (idempotent: each step reruns only when its lock file changes) ---

$(VENV)/.installed: requirements.lock
	@echo "==> Python environment ($(VENV)) from requirements.lock"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --no-deps -r requirements.lock
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.lock
	@echo "==> checkov environment ($(CHECKOV_VENV)) from requirements-checkov.lock"
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --no-deps -r requirements-checkov.lock
	@touch $@

# Rebuilt whole when its lock or the choice of interpreter changes (the interpreter may have changed).
$(RUNTIME_VENV)/.installed: requirements-runtime.lock pipeline/runtime-python.sh
	@echo "==> the functions' runtime ($(RUNTIME_VENV)): Python 3.13 and the Lambda runtime's SDK, from requirements-runtime.lock"
	@rm -rf $(RUNTIME_VENV) && interpreter=$$(pipeline/runtime-python.sh $(PYTHON)) && "$$interpreter" -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/pip install --quiet --no-deps -r requirements-runtime.lock
	@$(RUNTIME_VENV)/bin/python -c 'import sys, botocore; print(f"    Python {sys.version.split()[0]}, botocore {botocore.__version__}")'
	@touch $@

node_modules/.installed: package-lock.json
	@echo "==> cdktf CLI (npm ci from package-lock.json)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# CDK Terrain's, installed only when it is the chosen engine (or in CI): CDKTN_ENVIRONMENTS below.
$(CDKTN_VENV)/.installed: requirements-cdktn.lock
	@echo "==> CDK Terrain's Python environment ($(CDKTN_VENV)) from requirements-cdktn.lock"
	@test -x $(CDKTN_VENV)/bin/python || $(PYTHON) -m venv $(CDKTN_VENV)
	$(CDKTN_VENV)/bin/pip install --quiet --no-deps -r requirements-cdktn.lock
	@touch $@

$(CDKTN_CLI)/node_modules/.installed: $(CDKTN_CLI)/package-lock.json
	@echo "==> CDK Terrain's CLI (npm ci from $(CDKTN_CLI)/package-lock.json)"
	npm ci --prefix $(CDKTN_CLI) --no-audit --no-fund --loglevel=error
	@touch $@

$(BUILD)/terraform.rc: pipeline/terraformrc.sh
	@pipeline/terraformrc.sh $@

$(BUILD)/.debian-packages: pipeline/debian-packages.sh
	@pipeline/debian-packages.sh
	@mkdir -p $(BUILD) && touch $@

# The environments do not depend on one another: they install side by side (each is a no-op once its
# lock file is installed), after the Debian packages they may need.
ENVIRONMENTS := $(VENV)/.installed $(CHECKOV_VENV)/.installed $(RUNTIME_VENV)/.installed node_modules/.installed $(BUILD)/terraform.rc
# cdktf's environment is .venv and the root's CLI, above. CDK Terrain's only when chosen (python -m engine.choice:
# CDK_ENGINE, else config.toml's cdk_engine), and always for the tests (make test, make check), which test both
# engines; not for GitHub's plan and apply jobs, which synthesize with the chosen engine only.
CDKTN_ENVIRONMENTS := $(CDKTN_VENV)/.installed $(CDKTN_CLI)/node_modules/.installed
TEST_GOALS := test pytest check check-tests

setup: $(BUILD)/.debian-packages ## install everything the project needs
	@engine=$$($(PYTHON) -m engine.choice); \
	  both=$$([[ -n "$(filter $(TEST_GOALS),$(MAKECMDGOALS))" ]] && echo yes || true); \
	  $(MAKE) --no-print-directory --silent -j4 $(ENVIRONMENTS) \
	    $$([[ $$engine == cdktn || -n $$both ]] && echo "$(CDKTN_ENVIRONMENTS)" || true)

lock: ## re-resolve requirements*.txt into the pinned lock files
	rm -rf $(BUILD)/lock && $(PYTHON) -m venv $(BUILD)/lock/app && $(PYTHON) -m venv $(BUILD)/lock/checkov
	"$$(pipeline/runtime-python.sh $(PYTHON))" -m venv $(BUILD)/lock/runtime
	$(PYTHON) -m venv $(BUILD)/lock/cdktn
	$(BUILD)/lock/app/bin/pip install --quiet -r requirements.txt
	$(BUILD)/lock/checkov/bin/pip install --quiet -r requirements-checkov.txt
	$(BUILD)/lock/runtime/bin/pip install --quiet -r requirements-runtime.txt
	$(BUILD)/lock/cdktn/bin/pip install --quiet -r requirements-cdktn.txt
	{ echo "# Generated by 'make lock' from requirements-cdktn.txt: every package pinned. Do not edit."; \
	  $(BUILD)/lock/cdktn/bin/pip freeze --exclude-editable; } > requirements-cdktn.lock
	{ echo "# Generated by 'make lock' from requirements-runtime.txt: every package pinned. Do not edit."; \
	  $(BUILD)/lock/runtime/bin/pip freeze --exclude-editable; } > requirements-runtime.lock
	{ echo "# Generated by 'make lock' from requirements.txt: every package pinned. Do not edit."; \
	  $(BUILD)/lock/app/bin/pip freeze --exclude-editable; } > requirements.lock
	{ echo "# Generated by 'make lock' from requirements-checkov.txt: every package pinned. Do not edit."; \
	  $(BUILD)/lock/checkov/bin/pip freeze --exclude-editable; } > requirements-checkov.lock

# --- the local system ---------------------------------------------------------

up: setup ## start the emulator (or keep the running one), deploy what changed, serve the site and API locally
	$(call announce,--local-only)
	@DEPLOY_TARGET=local local/up.sh

down: ## stop the local edge and the emulator (everything deployed into it is gone)
	@local/edge.sh stop
	@local/emulator.sh stop

status: ## are the emulator and the local edge running?
	@local/emulator.sh status && local/edge.sh status

logs: ## follow the local edge's request log (one line per request)
	@log=$$(DEPLOY_TARGET=local $(VENV)/bin/python -m pipeline.config_get emulator_state_dir)/logs/edge.log; \
	  test -f "$$log" || { echo "make logs: no request log yet ($$log): run 'make up'" >&2; exit 1; }; tail -n 20 -F "$$log"

api-key: ## print the local API key (from the emulator's Secrets Manager)
	$(call announce,--local-only)
	@DEPLOY_TARGET=local $(VENV)/bin/python -m ops.api_key

staff-token: ## print an ID token of the local staff member, for curl's Authorization header (docs/LOCAL.md)
	$(call announce,--local-only)
	@DEPLOY_TARGET=local $(VENV)/bin/python -m ops.staff_token

seed: ## add sample students through the local API (N=20 by default; the tutorial's SV001 first)
	$(call announce,--local-only)
	@DEPLOY_TARGET=local $(VENV)/bin/python -m ops.seed --count $(or $(N),20)

emails: ## show the e-mails the emulator's SES accepted
	$(call announce,--local-only)
	@DEPLOY_TARGET=local $(VENV)/bin/python -m ops.emails

denials: ## show what the emulator's IAM refused (AccessDenied: who, what, on which resource, why)
	$(call announce,--local-only)
	@DEPLOY_TARGET=local $(VENV)/bin/python -m ops.denials

alarm-test: ## try an alarm's actions: set it to ALARM and back to OK, show where CloudWatch delivered each [ALARM=name]
	$(call announce,--local-only)
	@DEPLOY_TARGET=local $(VENV)/bin/python -m ops.alarm_test $(if $(ALARM),--alarm "$(ALARM)")

backups: ## list the backups in the emulator (DOWNLOAD=latest or a backup's name to fetch its objects)
	$(call announce,--local-only)
	@DEPLOY_TARGET=local $(VENV)/bin/python -m ops.backups $(if $(DOWNLOAD),--download '$(DOWNLOAD)')

restore: setup ## load a backup into the table: BACKUP=latest|backup-<run id> [TABLE=name] [OVERWRITE=1] [ENV=name]
	$(call announce)
	@$(VENV)/bin/python -m ops.restore --backup '$(BACKUP)' $(if $(TABLE),--table '$(TABLE)') $(if $(OVERWRITE),--overwrite)

verify-email: ## verify an address with the local SES, as its owner following SES's link would: EMAIL=name@example.org
	$(call announce,--local-only)
	@DEPLOY_TARGET=local $(VENV)/bin/python -m ops.verify_email --email '$(EMAIL)'

backup-now: ## run the daily backup now, as the deployed schedule would
	$(call announce,--local-only)
	@DEPLOY_TARGET=local $(VENV)/bin/python -m ops.backup_now

# --- staff (the local system's; ENV=<name> for an AWS environment's) -------------

# $(call staff-flag,VAR,--option): --option when VAR=1, nothing when VAR is unset, an error otherwise.
staff-flag = $(if $($(1)),$(if $(filter 1,$($(1))),$(2),$(error $(1) must be 1 or unset, not '$($(1))')))

staff-add: setup ## invite a staff member: EMAIL=name@example.org [ADMIN=1] (aws: Cognito e-mails the invitation)
	$(call announce)
	@$(VENV)/bin/python -m ops.staff add '$(EMAIL)' $(call staff-flag,ADMIN,--admin)

staff-list: setup ## list the staff members: status, enabled, groups
	$(call announce)
	@$(VENV)/bin/python -m ops.staff list

staff-remove: setup ## sign a staff member out everywhere and delete it: EMAIL=... [YES=1: do not ask]
	$(call announce)
	@$(VENV)/bin/python -m ops.staff remove '$(EMAIL)' $(call staff-flag,YES,--yes)

# --- synth, plan, deploy (ENV=<name>; the AWS-only ones refuse without it) ------

synth: setup ## synthesize ENV's stacks into cdktf.out/ (skipped when nothing changed)
	$(call announce)
	@$(VENV)/bin/python -m pipeline.synth --outdir cdktf.out

# An AWS environment's plan is of its own stack only: the account's stacks (the state bucket, the
# delivery identity) are reviewed and applied by `make bootstrap` and `make identity`, once per account.
PLAN_STACKS = $(or $(STACKS),$(if $(filter-out local,$(or $(ENV),local)),student-management))

plan: setup ## a reviewable plan of ENV's stacks: cdktf.out/plan/<stack>.{tfplan,txt,json} and a summary [STACKS=...]
	$(call announce)
	@$(VENV)/bin/python -m pipeline.synth --outdir cdktf.out
	@pipeline/plan.sh $(PLAN_STACKS)

apply: setup ## apply the reviewed plan of ENV (cdktf.out/plan/, from `make plan` or CI) without asking; refuses a stale one
	$(call announce,--aws-only)
	@$(VENV)/bin/python -m pipeline.synth --outdir cdktf.out
	@pipeline/apply.sh student-management

drift: setup ## has ENV's deployment changed outside Terraform? a refresh-only plan, summarized (exit 2: drift)
	$(call announce,--aws-only)
	@$(VENV)/bin/python -m pipeline.synth --outdir cdktf.out
	@$(PYTHON) -m pipeline.drift cdktf.out/stacks/student-management

# $(call reviewed-apply,<stack>): plan the stack (pipeline/plan.sh: the plan, its
# text, its JSON and a summary), refuse when the plan destroys or replaces a
# stateful resource (pipeline/plan_summary.py --guard; ALLOW_REPLACE=1 overrides),
# ask, then apply exactly that saved plan: Terraform refuses it if the state
# changed since it was planned. Nothing is applied when there is nothing to do.
define reviewed-apply
@CDKTF_OUTDIR=$(CURDIR)/cdktf.out pipeline/plan.sh $(1)
@$(PYTHON) -m pipeline.plan_summary --guard cdktf.out/plan/$(1).json || { status=$$?; [[ $$status == 2 ]] || exit $$status; \
  echo "make $@: REFUSED, nothing applied: the plan of $(1) destroys or replaces the stateful resources named above" \
       "(plan: cdktf.out/plan/$(1).txt). To apply it anyway: ALLOW_REPLACE=1 make $@ ENV=$(ENV)" >&2; exit 1; }
@if grep -q '^No changes\.' cdktf.out/plan/$(1).txt; then echo "==> $(1): no changes, nothing to apply"; else \
  read -r -p "Apply the plan of $(1) shown above (cdktf.out/plan/$(1).tfplan)? Only 'yes' applies: " answer || true; \
  [[ $${answer:-} == yes ]] || { echo "make $@: not applied ($(1))" >&2; exit 1; }; \
  $(if $(filter local,$(DEPLOY_TARGET)),AWS_ACCESS_KEY_ID=emulator AWS_SECRET_ACCESS_KEY=emulator) \
  terraform -chdir=cdktf.out/stacks/$(1) apply -input=false $(CURDIR)/cdktf.out/plan/$(1).tfplan; fi
endef

bootstrap: setup ## create the Terraform state bucket in ENV's account (once per account): plan, guard, ask, apply
	$(call announce,--aws-only)
	@$(VENV)/bin/python -m pipeline.synth --outdir cdktf.out
	$(call reviewed-apply,state-bootstrap)

# The delivery identity is synthesized only with github_repository set, for aws (modules/stacks/delivery_identity.py):
# say so in one line rather than let Terraform look for a stack that was not synthesized.
identity-check:
	@repository=$$($(PYTHON) -m pipeline.config_get github_repository); [[ -n $$repository ]] || \
	  { echo "make identity: github_repository is empty: set it to owner/name in config.toml or STUDENT_MGMT_GITHUB_REPOSITORY" >&2; exit 1; }
	@[[ $$($(PYTHON) -m pipeline.config_get is_local) != True ]] || \
	  { echo "make identity: the emulator has no GitHub to trust: choose an AWS environment's account (ENV=production)" >&2; exit 1; }

identity: setup ## create GitHub Actions' delivery identity in ENV's account (once; needs github_repository): plan, guard, ask, apply
	$(call announce,--aws-only)
	@$(MAKE) identity-check
	@$(VENV)/bin/python -m pipeline.synth --outdir cdktf.out
	$(call reviewed-apply,delivery-identity)
	@terraform -chdir=cdktf.out/stacks/delivery-identity output

deploy: setup ## deploy ENV to the AWS account of your credentials: plan, guard, ask, apply that plan
	$(call announce,--aws-only)
	@$(MAKE) bootstrap
	$(call reviewed-apply,student-management)
	@# Outputs as `cdktf deploy --outputs-file` writes them: {stack: {name: value}}, sensitive ones left out.
	@terraform -chdir=cdktf.out/stacks/student-management output -json | $(PYTHON) -c 'import json, sys; \
	  json.dump({"student-management": {k: v["value"] for k, v in json.load(sys.stdin).items() if not v["sensitive"]}}, \
	            sys.stdout, indent=2)' >cdktf.out/outputs.$(ENV).json
	@echo "==> outputs: cdktf.out/outputs.$(ENV).json"

invalidate: setup ## clear CloudFront's cache of the site (/*; PATHS="/a /b" for others): rarely needed (docs/DEPLOYING.md)
	$(call announce)
	@$(VENV)/bin/python -m ops.invalidate --paths $(foreach path,$(or $(PATHS),/*),'$(path)')

# $(call destroy-flag,VAR,--option): --option when VAR=1, nothing when VAR is unset, an error otherwise.
destroy-flag = $(if $($(1)),$(if $(filter 1,$($(1))),$(2),$(error $(1) must be 1 or unset, not '$($(1))')),)

# The stacks as synthesized for ENV: make up's (local), make synth's cdktf.out (an AWS environment).
destroy: setup ## remove ENV's deployment: a final backup first, the table kept, asks about backups (docs/DEPLOYING.md)
	$(call announce)
	@out=$$($(VENV)/bin/python -m pipeline.config_get deployment_outdir); \
	  $(VENV)/bin/python -m pipeline.synth --outdir "$$out"; \
	  $(VENV)/bin/python -m ops.destroy --outdir "$$out" $(if $(BACKUPS),--backups '$(BACKUPS)') \
	    $(call destroy-flag,DELETE_TABLE,--delete-table) $(call destroy-flag,SKIP_FINAL_BACKUP,--skip-final-backup) \
	    $(call destroy-flag,YES,--yes)

# --- tests --------------------------------------------------------------------

lint: setup ## ruff (lint + format check), mypy and actionlint (the GitHub workflows)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/actionlint .github/workflows/*.yml

# Five workers, a test file each at a time: the files that deploy the whole system into an
# emulator of their own (tests/local/test_deploy_local.py and tests/system/) mostly wait on
# the AWS provider and the emulator, while the other workers run everything else.
pytest: setup
	$(VENV)/bin/pytest -n 5 --dist loadfile --no-loadscope-reorder

# The functions' tests again, under the runtime's Python and SDK (requirements-runtime.txt).
pytest-runtime: setup
	$(RUNTIME_VENV)/bin/python -m pytest tests/lambdas -n 2 -p no:cacheprovider -W "ignore:datetime.datetime.utcnow() is deprecated:DeprecationWarning"

# The loop for an edit: no emulator deploy, no browser, none of the longer proofs marked slow
# (a moto server of its own, checkov, terraform validate, a second synth, a benchmark, a budget
# waited out, megabytes through moto). Two workers: the tests are CPU-bound on two cores, and a third
# worker costs a start of its own for no gain (measured: 2 workers 51 s, 3 workers 55 s).
check-tests: setup
	$(VENV)/bin/pytest -n 2 -m "not emulator and not browser and not slow" -p no:cacheprovider --durations=5

check: setup ## the loop for an edit: lint, types and the tests that need no deploy, server or gate (see docs/TESTING.md)
	@$(MAKE) -j2 lint check-tests

test: setup ## install everything, then run every check and test (lint, pytest and the functions under the runtime's SDK)
	@$(MAKE) -j3 lint pytest pytest-runtime

bench: setup ## benchmarks: synth, deploy, the local API, the backup, the function zips, Terraform's collector; each against a baseline
	$(VENV)/bin/python -m bench.synth
	$(VENV)/bin/python -m bench.deploy
	$(VENV)/bin/python -m bench.api
	$(VENV)/bin/python -m bench.backup
	$(VENV)/bin/python -m bench.functions
	$(VENV)/bin/python -m bench.terraform

clean: ## remove generated files (not the environments)
	rm -rf cdktf.out .pytest_cache .mypy_cache .ruff_cache
