#!/bin/bash
# libaekit.so exports the public API only (cmake/libaekit.map): every
# symbol it exports is named in a public header (include/). An internal
# ae_ name that leaks through the map's ae_* wildcard fails this test.
# Usage: exports.sh LIBAEKIT_SO INCLUDE_DIR
set -u
lib=$1 include=$2
command -v nm >/dev/null || { echo "nm not found: cannot list the exports"; exit 77; }
symbols=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRBVW]$/ {print $3}') || exit 1
[ -n "$symbols" ] || { echo "FAIL: $lib exports nothing"; exit 1; }
fail=0
for s in $symbols; do
    case $s in ae_*) ;; *) echo "FAIL: $lib exports $s (not an ae_ name)"; fail=1; continue ;; esac
    grep -rqw -- "$s" "$include" || { echo "FAIL: $lib exports $s, which no header in $include declares"; fail=1; }
done
[ $fail = 0 ] && echo "$(echo "$symbols" | wc -l) exports, all public"
exit $fail
