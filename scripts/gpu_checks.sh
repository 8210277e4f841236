#!/usr/bin/env bash
# Every GPU figure of the crate from one run of at most 10 minutes on a machine with an NVIDIA
# GPU, PyTorch and no Rust: parity against PyTorch on the same GPU with TF32 on (the tolerance
# set from PyTorch's own deviation), the first training step with and without the autotune
# cache, the benchmark items beside PyTorch with their kernel launches (this crate's GPU
# kernels and Burn's operations), and the per-layer table.
#
# The binaries come from a build with `--features cuda` on any machine (the driver is loaded at
# run time), packed here into `.gpu/gpu.tar.zst` (three binaries of 140-170 MB stripped share
# most of their code: zstd's long-range mode packs them to about 50 MB, which fits the GPU
# machine's 64 MiB transfer beside the working tree):
#
#   bash scripts/install_cuda_llvm.sh
#   cargo build --release --features cuda --example bench_item --example bench_layers
#   cargo test --release --features cuda --no-run --test gpu_parity
#   bash scripts/gpu_checks.sh pack
#   # on the GPU machine, from the repository's root, carrying .gpu:
#   bash scripts/gpu_checks.sh run OUT_FOLDER
#
# `run` writes at most eight files into OUT_FOLDER: gpu.txt (the device), parity.log,
# first_step.jsonl, bench.jsonl (ours and PyTorch's lines, `bench_item` and
# `scripts/bench_pytorch.py`), launches.txt (launches by kernel), layers.txt (ours and
# PyTorch's per-layer lines side by side) and summary.txt. Each part has a time limit, so one
# that hangs cannot take the rest with it. SIZE (default 256) sets the image size, REPEATS and
# WARMUP (10 and 3) the benchmark items' iterations; GPU_BACKEND (cuda) and TORCH_DEVICE
# (cuda) the two sides' devices: `GPU_BACKEND=wgpu TORCH_DEVICE=cpu SIZE=32` runs the whole
# script on a machine without a GPU (binaries built with `--features wgpu`), as a dry run.
set -uo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}/release"
binaries=(bench_item bench_layers gpu_parity)

pack() {
    set -e
    rm -rf .gpu && mkdir -p .gpu/bin .gpu/tools
    cp "$target/examples/bench_item" "$target/examples/bench_layers" .gpu/bin/
    # The newest test binary of that name (cargo names them <test>-<hash>).
    cp "$(ls -t "$target"/deps/gpu_parity-* | grep -v '\.d$' | head -n 1)" .gpu/bin/gpu_parity
    strip .gpu/bin/*
    # zstd for a GPU machine that has none, with the libraries it loads.
    cp "$(command -v zstd)" .gpu/tools/
    ldd "$(command -v zstd)" | awk '/=> \// { print $3 }' | grep -v 'libc\.so' \
        | xargs -r -I{} cp {} .gpu/tools/
    tar -C .gpu/bin -cf - "${binaries[@]}" \
        | zstd -q --ultra -22 --long=31 -T0 -f -o .gpu/gpu.tar.zst
    rm -rf .gpu/bin
    ls -l .gpu .gpu/tools
}

# `timeout LIMIT command...` with its exit status noted in the summary.
limited() {
    local limit="$1" name="$2"
    shift 2
    local start=$SECONDS
    timeout "$limit" "$@"
    local status=$?
    echo "$name: exit $status after $((SECONDS - start)) s" >>"$out/summary.txt"
    return $status
}

run() {
    out="${1:-/tmp/gpu-checks}"
    local size="${SIZE:-256}" bin=/tmp/gpu-bins backend="${GPU_BACKEND:-cuda}"
    local torch="${TORCH_DEVICE:-cuda}" repeats="${REPEATS:-10}" warmup="${WARMUP:-3}"
    rm -rf "$bin" && mkdir -p "$out" "$bin"
    (cd "$out" && rm -f gpu.txt parity.log first_step.jsonl bench.jsonl launches.txt layers.txt)
    : >"$out/summary.txt"
    local unzstd=(zstd)
    command -v zstd >/dev/null || unzstd=(env LD_LIBRARY_PATH="$PWD/.gpu/tools" .gpu/tools/zstd)
    "${unzstd[@]}" -q -d --long=31 -c .gpu/gpu.tar.zst | tar -C "$bin" -xf - || return 1
    { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
      python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda)'
    } 2>&1 | tee "$out/gpu.txt"
    # NVRTC, if the runtime asks for it, from the CUDA toolkit or PyTorch's wheels.
    local nvrtc
    nvrtc="$(find /usr/local/cuda*/lib64 /opt /usr/lib /usr/local/lib -name 'libnvrtc.so*' 2>/dev/null | head -n 1)"
    [ -n "$nvrtc" ] && export LD_LIBRARY_PATH="$(dirname "$nvrtc")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export CARGO_MANIFEST_DIR="$PWD" CYCLEGAN_TEST_BACKEND="$backend" RUST_BACKTRACE=1
    local item="train_step_$size" jsonl="$out/bench.jsonl"

    # 1. The first training step of a process: autotuning from an empty cache, then a second
    # process that finds the first one's results (cubecl's cache, target/environment here).
    rm -rf target/environment
    for cache in cold warm; do
        limited 150 "first step ($cache cache)" "$bin/bench_item" --item "$item" --backend "$backend" \
            --warmup 0 --repeats 2 2>/dev/null | tail -n 1 | sed "s/^{/{\"cache\": \"$cache\", /" \
            | tee -a "$out/first_step.jsonl"
    done

    # 2. Parity against PyTorch on this GPU with TF32 on.
    limited 60 "PyTorch reference" python3 scripts/gpu_reference.py --device "$torch" --out /tmp/gpu-reference \
        2>&1 | tail -n 3
    export CYCLEGAN_GPU_REFERENCE=/tmp/gpu-reference
    limited 120 "parity" "$bin/gpu_parity" --ignored --nocapture --test-threads 1 \
        >"$out/parity.log" 2>&1
    grep -E 'ours|test result|panicked' "$out/parity.log" | head -n 60

    # 3. The benchmark items, ours (with launches counted) then PyTorch's, on the same GPU.
    for item in "generator_forward_$size" "discriminator_forward_$size" "train_step_$size" \
        "translate_folder_$size"; do
        echo "== $item" >>"$out/launches.txt"
        limited 90 "$item (ours)" "$bin/bench_item" --item "$item" --backend "$backend" --warmup "$warmup" \
            --repeats "$repeats" --launches 2>>"$out/launches.txt" | tail -n 1 | tee -a "$jsonl"
        limited 90 "$item (PyTorch)" python3 scripts/bench_pytorch.py --item "$item" \
            --device "$torch" --warmup "$warmup" --repeats "$repeats" 2>&1 | tail -n 1 | tee -a "$jsonl"
    done
    # Burn's own operations instead of this crate's GPU kernels: what they replace.
    for item in "generator_forward_$size" "train_step_$size"; do
        echo "== $item, Burn's operations" >>"$out/launches.txt"
        limited 90 "$item (Burn's operations)" "$bin/bench_item" --item "$item" --backend "$backend" \
            --warmup "$warmup" --repeats "$repeats" --launches --burn_ops 2>>"$out/launches.txt" \
            | tail -n 1 | sed 's/^{/{"burn_ops": true, /' | tee -a "$jsonl"
    done

    # 4. Layer by layer, ours beside PyTorch's.
    limited 90 "layers (ours)" "$bin/bench_layers" "$size" 5 --backend "$backend" >/tmp/layers_ours.txt 2>&1
    limited 60 "layers (PyTorch)" python3 scripts/bench_layers.py "$size" 5 --device "$torch" \
        >/tmp/layers_pytorch.txt 2>&1
    paste /tmp/layers_ours.txt /tmp/layers_pytorch.txt | tee "$out/layers.txt"
    cat "$out/summary.txt"
}

case "${1:-}" in
    pack) shift; pack "$@" ;;
    run) run "${2:-}" ;;
    *) echo "usage: $0 pack | run [OUT_FOLDER]" >&2; exit 2 ;;
esac
