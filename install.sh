#!/bin/sh
# Install git-milestone from this source tree: the binary (with cargo) and
# its man pages, so that `git milestone --help` opens the manual.
# Run ./install.sh --help for the options. Safe to run again.
set -eu

usage() {
    cat <<'EOF'
Usage: ./install.sh [--root DIR] [--uninstall]

Build git-milestone from this source tree with `cargo install --locked
--path .` and install its man pages, so that `git milestone --help` works.

Installs:
  DIR/bin/git-milestone
  DIR/share/man/man1/git-milestone.1
  DIR/share/man/man1/git-milestone-<subcommand>.1 (git-milestone-run.1, ...)

Options:
  --root DIR     install under DIR (default: $CARGO_INSTALL_ROOT, else
                 $CARGO_HOME, else ~/.cargo: where cargo installs)
  --prefix DIR   the same as --root DIR
  --uninstall    remove the binary and the man pages from DIR, nothing else
  -h, --help     show this help

Environment:
  CARGO             the cargo program to run (default: cargo)
  CARGO_TARGET_DIR  build there instead of a temporary directory, so that
                    a second install reuses the first one's build
  GIT_MILESTONE_INSTALL_DEBUG=1
                    build without optimisations (`cargo install --debug`);
                    the test suite uses this to reuse its own debug build
EOF
}

die() {
    printf 'error: %s\n' "$1" >&2
    if [ $# -gt 1 ]; then
        printf 'hint: %s\n' "$2" >&2
    fi
    exit 2
}

root=""
uninstall=false
while [ $# -gt 0 ]; do
    case "$1" in
        --root | --prefix)
            [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a directory" "run ./install.sh --help"
            root="$2"
            shift 2
            ;;
        --root=* | --prefix=*)
            root="${1#*=}"
            [ -n "$root" ] || die "${1%%=*} needs a directory" "run ./install.sh --help"
            shift
            ;;
        --uninstall)
            uninstall=true
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            die "unknown argument: $1" "run ./install.sh --help"
            ;;
    esac
done

cargo="${CARGO:-cargo}"
if [ -z "$root" ]; then
    root="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-${HOME:?HOME is not set}/.cargo}}"
fi
mkdir -p "$root"
root="$(cd "$root" && pwd)"
bin_path="$root/bin/git-milestone"
man_dir="$root/share/man/man1"
man_path="$man_dir/git-milestone.1"

if "$uninstall"; then
    removed=false
    if "$cargo" install --list --root "$root" 2>/dev/null | grep -q '^git-milestone '; then
        "$cargo" uninstall --quiet --root "$root" git-milestone
        removed=true
    elif [ -f "$bin_path" ]; then
        rm -f "$bin_path"
        removed=true
    fi
    for page in "$man_path" "$man_dir"/git-milestone-*.1; do
        if [ -f "$page" ]; then
            rm -f "$page"
            removed=true
        fi
    done
    if "$removed"; then
        printf 'removed git-milestone from %s\n' "$root"
    else
        printf 'git-milestone is not installed in %s: nothing to remove\n' "$root"
    fi
    exit 0
fi

command -v "$cargo" >/dev/null 2>&1 ||
    die "cannot find cargo" "install Rust from https://rustup.rs, then run ./install.sh again"

src_dir="$(cd "$(dirname "$0")" && pwd)"
profile_flag=""
if [ "${GIT_MILESTONE_INSTALL_DEBUG:-}" = 1 ]; then
    profile_flag="--debug"
fi
# --force: a path install of an unchanged version is otherwise skipped, and
# then a man page from this tree could sit beside an older binary.
# shellcheck disable=SC2086 # profile_flag is empty or one word
"$cargo" install --locked --force $profile_flag --path "$src_dir" --root "$root"

"$bin_path" --version >/dev/null ||
    die "the installed $bin_path does not run"

# Written aside first, then moved in: a failed write leaves the old pages.
mkdir -p "$man_dir"
tmp="$man_dir/.git-milestone-pages.$$"
trap 'rm -rf "$tmp"' EXIT
"$bin_path" man --dir "$tmp"
rm -f "$man_dir"/git-milestone-*.1 # pages of subcommands that are gone
subpages=0
for page in "$tmp"/*.1; do
    case ${page##*/} in git-milestone-*) subpages=$((subpages + 1)) ;; esac
    mv -f "$page" "$man_dir/"
done
rmdir "$tmp"
trap - EXIT

printf 'installed %s\n' "$bin_path"
printf 'installed %s and %s pages for its subcommands (git-milestone-run.1, ...)\n' "$man_path" "$subpages"

case ":${PATH:-}:" in
    *":$root/bin:"*) ;;
    *)
        printf 'warning: %s is not on your PATH, so git cannot find `git milestone`\n' "$root/bin"
        printf 'hint: add it in your shell profile: export PATH="%s:$PATH"\n' "$root/bin"
        ;;
esac

if command -v man >/dev/null 2>&1; then
    found="$(man -w git-milestone 2>/dev/null || true)"
    if [ "$found" != "$man_path" ]; then
        printf 'note: man does not find %s yet, so `git milestone --help` will not show it\n' "$man_path"
        printf 'hint: add it in your shell profile: export MANPATH="%s:${MANPATH:-}"\n' "$root/share/man"
    fi
else
    printf 'note: `man` is not installed, so `git milestone --help` cannot show the manual; `git-milestone --help` prints the same help\n'
fi
