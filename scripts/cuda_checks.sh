#!/usr/bin/env bash
# The CUDA checks, on a machine with an NVIDIA GPU: the PyTorch parity tests, the training-step
# parity tests and the replica tests on the `cuda` backend, then the benchmark items beside
# PyTorch on the same GPU.
#
# The binaries come from a build with `--features cuda` (on any machine: the driver is loaded at
# run time), packed by `scripts/cuda_checks.sh pack` into archives in `.gpu/` (a binary is
# 140-170 MB stripped, most of it LLVM and Burn; binaries packed together share most of it:
# three test binaries came to 45 MB), so a GPU machine needs neither Rust nor LLVM, and an
# archive fits a transfer of 64 MiB beside the working tree (7 MB):
#
#   bash scripts/install_cuda_llvm.sh
#   cargo test --release --features cuda --no-run --test parity --test train_step \
#       --test parallel --test backend_gradients
#   cargo build --release --features cuda --example bench_item
#   bash scripts/cuda_checks.sh pack [GROUP...]   # strips and packs the binaries
#   # on the GPU machine, from the repository's root (PyTorch installed for the benchmarks):
#   bash scripts/cuda_checks.sh run [OUT_FOLDER]  # logs and bench lines in OUT_FOLDER
#
# A group names the binaries of one archive joined by `+` (`.gpu/train_step+parallel.tar.zst`);
# without groups, `pack` makes `parity+train_step`, `parallel+bench_item` and
# `backend_gradients`. `run` unpacks whichever archives are there and runs the parts whose
# binaries it finds: the parity, training-step and replica tests, the comparison with the CPU
# (`backend_gradients`, its ignored tests) and the benchmarks. Each part has a time limit
# (`timeout`), so one that hangs cannot take the rest with it.
set -uo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}/release"

pack() {
    set -e
    local groups=("$@")
    [ ${#groups[@]} -gt 0 ] || groups=(parity+train_step parallel+bench_item backend_gradients)
    rm -rf .gpu/bin && mkdir -p .gpu/bin
    local group binary
    for group in "${groups[@]}"; do
        for binary in ${group//+/ }; do
            if [ "$binary" = bench_item ]; then
                cp "$target/examples/bench_item" .gpu/bin/bench_item
            else
                # The newest test binary of that name (cargo names them <test>-<hash>).
                cp "$(ls -t "$target"/deps/"$binary"-* | grep -v '\.d$' | head -n 1)" ".gpu/bin/$binary"
            fi
        done
    done
    strip .gpu/bin/*
    # Long-range matching: the binaries of a group share most of their code. Level 22 (about
    # 8 minutes for three binaries on 2 cores) took three test binaries to 45 MB, where level
    # 19 left 60 MB, too much beside the working tree.
    for group in "${groups[@]}"; do
        tar -C .gpu/bin -cf - ${group//+/ } \
            | zstd -q --ultra -22 --long=31 -T0 -f -o ".gpu/$group.tar.zst"
    done
    ls -l .gpu/bin .gpu/*.tar.zst
}

run() {
    local out="${1:-/tmp/cuda-checks}"
    mkdir -p "$out"
    local bin=.gpu/bin archive
    # zstd itself travels in .gpu/tools where the GPU machine has none (with its libraries).
    local unzstd=(zstd)
    command -v zstd >/dev/null || unzstd=(env LD_LIBRARY_PATH="$PWD/.gpu/tools" .gpu/tools/zstd)
    for archive in .gpu/*.tar.zst; do
        [ -f "$archive" ] || continue
        bin=/tmp/cuda-bins
        mkdir -p "$bin"
        "${unzstd[@]}" -q -d --long=31 -c "$archive" | tar -C "$bin" -xf -
    done
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
    # The driver is on the loader's path; NVRTC, if the runtime asks for it, from the CUDA
    # toolkit or PyTorch's wheels.
    local nvrtc
    nvrtc="$(find /usr/local/cuda*/lib64 /opt /usr/lib /usr/local/lib -name 'libnvrtc.so*' 2>/dev/null | head -n 1)"
    [ -n "$nvrtc" ] && export LD_LIBRARY_PATH="$(dirname "$nvrtc")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export CARGO_MANIFEST_DIR="$PWD" CYCLEGAN_TEST_BACKEND=cuda RUST_BACKTRACE=1

    for test in train_step backend_gradients parallel parity; do
        [ -x "$bin/$test" ] || continue
        echo "== $test (cuda)"
        local start=$SECONDS ignored=()
        # backend_gradients's tests are ignored unless a backend is named.
        [ "$test" = backend_gradients ] && ignored=(--ignored)
        timeout "${CUDA_CHECK_LIMIT:-200}" "$bin/$test" "${ignored[@]}" --test-threads 1 --nocapture >"$out/$test.log" 2>&1
        echo "exit $? after $((SECONDS - start)) s"
        grep -E '^test |test result|panicked|max|relative|error' "$out/$test.log" | head -n 60
    done

    [ -x "$bin/bench_item" ] || return 0
    echo "== benchmark items (cuda), ours then PyTorch's"
    for item in generator_forward_256 discriminator_forward_256 train_step_32 train_step_256 \
        train_step_b2_256 train_step_x2_256 translate_folder_256; do
        timeout 120 "$bin/bench_item" --item "$item" --backend cuda --warmup 3 --repeats 10 \
            2>&1 | tail -n 1 | tee -a "$out/bench.jsonl"
        case "$item" in
            train_step_x2_*) ;;  # two replicas: no PyTorch counterpart on one GPU
            *) timeout 120 python3 scripts/bench_pytorch.py --item "$item" --device cuda \
                --warmup 3 --repeats 10 2>&1 | tail -n 1 | tee -a "$out/bench.jsonl" ;;
        esac
    done
}

case "${1:-}" in
    pack) shift; pack "$@" ;;
    run) run "${2:-}" ;;
    *) echo "usage: $0 pack [GROUP...] | run [OUT_FOLDER]" >&2; exit 2 ;;
esac
