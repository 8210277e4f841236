#!/usr/bin/env bash
# Installs the LLVM that Burn 0.22's `cuda` feature builds against, from two PyPI wheels, so
# that `cargo build --features cuda` downloads nothing at build time.
#
# Why: `burn`'s `cuda` feature pulls in `cubecl-cuda` → `cubecl-llvm`, whose build dependency
# `tracel-llvm-bundler` downloads an LLVM bundle from GitHub in its build script, unless
# `<prefix>/.tracel-llvm-installed` exists, with `<prefix>` =
# `${XDG_DATA_HOME:-~/.local/share}/tracel/tracel-llvm-23.1.0-4`. `cubecl-llvm` then only needs
# `<prefix>/bin/llvm-config --link-static`, LLVM's headers and its static libraries there
# (with the NVPTX target). The wheels `mlc-llvm-static` (LLVM 23.1.1 static libraries,
# headers, `llvm-config`) and `mlc-llvm-static-extra-targets` (NVPTX and the other
# non-default targets), unpacked into one tree, are exactly that.
#
# Usage: bash scripts/install_cuda_llvm.sh        (idempotent: a complete install is kept)
# Needs: python3 with pip, access to PyPI; 92 MB download, 410 MB on disk.
set -euo pipefail

VERSION=23.1.1.post0
PREFIX="${XDG_DATA_HOME:-$HOME/.local/share}/tracel/tracel-llvm-23.1.0-4"
MARKER="$PREFIX/.tracel-llvm-installed"

# The checks an install must pass, before it is marked complete and whenever it is found.
check() {
    local root="$1"
    local config="$root/bin/llvm-config"
    [ -x "$config" ] || { echo "missing $config" >&2; return 1; }
    local version
    version="$("$config" --version)"
    case "$version" in
        23.1.*) ;;
        *) echo "$config reports LLVM $version, expected 23.1.x" >&2; return 1 ;;
    esac
    local targets
    targets="$("$config" --targets-built)"
    for target in X86 NVPTX; do
        case " $targets " in
            *" $target "*) ;;
            *) echo "LLVM in $root lacks the $target target (has: $targets)" >&2; return 1 ;;
        esac
    done
    for file in include/llvm/IR/Module.h include/llvm-c/Core.h lib/libLLVMCore.a \
        lib/libLLVMNVPTXCodeGen.a lib/libLLVMX86CodeGen.a; do
        [ -f "$root/$file" ] || { echo "missing $root/$file" >&2; return 1; }
    done
    "$config" --link-static --libs core >/dev/null \
        || { echo "$config --link-static --libs core fails" >&2; return 1; }
}

if [ -f "$MARKER" ]; then
    if check "$PREFIX"; then
        echo "LLVM $("$PREFIX/bin/llvm-config" --version) is installed in $PREFIX"
        exit 0
    fi
    echo "the install in $PREFIX is incomplete: installing again" >&2
    rm -f "$MARKER"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Pinned versions and hashes: pip refuses anything else.
cat >"$work/requirements.txt" <<EOF
mlc-llvm-static==$VERSION --hash=sha256:dcfec888abfaa418be77d41af585805f31463584cf9c90582992c00f392c1ac5
mlc-llvm-static-extra-targets==$VERSION --hash=sha256:c36e834d9a4e9cf9759f27fece65711ece7a2fc2b5a96dbb15d66f5e9e787929
EOF
python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    --platform manylinux_2_28_x86_64 -r "$work/requirements.txt" -d "$work/wheels"

# Both wheels into one tree (the extra targets add files beside the base ones).
python3 - "$work" <<'EOF'
import pathlib, sys, zipfile
work = pathlib.Path(sys.argv[1])
for wheel in sorted((work / "wheels").glob("*.whl")):
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            target = work / "tree" / info.filename
            if info.is_dir():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)
EOF
static="$work/tree/mlc_llvm_static/static"
check "$static"

# Into place: copied beside the prefix, then renamed, then marked complete.
mkdir -p "$(dirname "$PREFIX")"
rm -rf "$PREFIX.tmp" "$PREFIX"
cp -a "$static" "$PREFIX.tmp"
mv "$PREFIX.tmp" "$PREFIX"
check "$PREFIX"
touch "$MARKER"
echo "LLVM $("$PREFIX/bin/llvm-config" --version) installed in $PREFIX ($(du -sh "$PREFIX" | cut -f1))"
