# Shared scaffolding of the command-line tests tests/cli_*.sh; each sources it
# first:  source "$(dirname "$0")/lib/cli_common.sh"  (with "$@" unchanged).
# It lives in tests/lib/ so that the tests/cli_*.sh glob of tests/CMakeLists.txt
# does not register it as a test. It gives:
#  - the usage check of $1, AEKIT (its real path) and PY (python3);
#  - tmp, a temp folder removed on exit (a script may replace the trap);
#  - passed/failed, check NAME COMMAND..., fail_early MESSAGE, summary;
#  - need_mnist: finds the data folder (sets AEKIT_DATA and mnist) or fails;
#  - expect_error (one refused command: exit code, one stderr line naming
#    the fault, nothing created, no temporary left), with ok/bad and logs;
#  - helpers used by more than one script: one_line, unchanged, png_size,
#    make_idx, aekit_temps, no_temps.
set -u

if [[ $# -ne 1 || ! -x $1 ]]; then
  echo "usage: bash $0 /path/to/aekit" >&2
  exit 2
fi
AEKIT=$(realpath "$1")
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
check() {  # check NAME CONDITION-COMMAND...
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); echo "ok    $name"
  else failed=$((failed + 1)); echo "FAIL  $name"; fi
}

# fail_early MESSAGE: the test cannot run; one failure, exit 1.
fail_early() {
  echo "FAIL  $1"
  echo "0 passed, 1 failed"
  exit 1
}

# The final line "N passed, M failed"; its status is the script's result.
summary() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}

# need_mnist: MNIST is looked up in $AEKIT_SOURCE_DIR/data (set by ctest),
# else in $AEKIT_DATA, else in the data folder next to the tests folder
# (fetch it with scripts/fetch-mnist.sh). Sets and exports AEKIT_DATA, sets
# mnist; without MNIST the test fails at once.
need_mnist() {
  if [[ -n ${AEKIT_SOURCE_DIR:-} ]]; then
    export AEKIT_DATA=$AEKIT_SOURCE_DIR/data
  elif [[ -z ${AEKIT_DATA:-} ]]; then
    export AEKIT_DATA=$(cd "$(dirname "$0")/.." && pwd)/data
  fi
  mnist=$AEKIT_DATA/mnist
  if [[ ! -e $mnist/train-images-idx3-ubyte && ! -e $mnist/train-images-idx3-ubyte.gz ]]; then
    fail_early "MNIST not found in $mnist (run scripts/fetch-mnist.sh $mnist)"
  fi
}

one_line() { [[ $(wc -l <"$1") -eq 1 ]]; }
unchanged() { diff -r "$1" "$2" >/dev/null; }   # unchanged DIR1 DIR2: same files, same bytes

# png_size FILE: prints "WIDTH HEIGHT" from the IHDR chunk, or nothing when
# the file does not start with the PNG signature and an IHDR chunk.
png_size() {
  local sig ihdr
  sig=$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')
  ihdr=$(head -c 16 "$1" 2>/dev/null | tail -c 4)
  [[ $sig == 89504e470d0a1a0a && $ihdr == IHDR ]] || return 0
  od -An -tu1 -j16 -N8 "$1" | awk '{ print $1*16777216 + $2*65536 + $3*256 + $4, $5*16777216 + $6*65536 + $7*256 + $8 }'
}

# make_idx DIR N_TRAIN N_TEST SIDE: a small IDX data set of discs (MNIST's
# four files) in DIR, from a fixed seed.
make_idx() {
  "$PY" - "$@" <<'EOF'
import os, random, struct, sys
d, ntrain, ntest, side = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(d, exist_ok=True)
rng = random.Random(0)
def images(n):
    out = bytearray()
    for _ in range(n):
        cx, cy, r = rng.randrange(side), rng.randrange(side), rng.randrange(3, side // 2)
        for y in range(side):
            for x in range(side):
                out.append(255 if (x - cx) ** 2 + (y - cy) ** 2 < r * r else 0)
    return bytes(out)
for prefix, n in (("train", ntrain), ("t10k", ntest)):
    with open(os.path.join(d, prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, side, side) + images(n))
    with open(os.path.join(d, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(rng.randrange(10) for _ in range(n)))
EOF
}

# aekit_temps DIR: the temporary files aekit left anywhere under DIR
# (.NAME.aekit-tmp-XXXXXX; .NAME.aekit-old-XXXXXX, a file kept while
# several outputs are replaced together), one a line.
aekit_temps() { find "$1" \( -name '.*.aekit-tmp-*' -o -name '.*.aekit-old-*' \) -print 2>/dev/null; }
no_temps() { [[ -z $(aekit_temps "$1") ]]; }

# Runs argv[2:], writes its peak resident memory in MiB to argv[1] and exits
# with its exit code.
peak_rss_py='
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024))
sys.exit(rc if rc >= 0 else 128 - rc)
'

# ok NAME / bad NAME PROBLEMS: a passed or failed case (bad shows its stderr).
ok()  { passed=$((passed + 1)); echo "ok    $1"; }
bad() { failed=$((failed + 1)); echo "FAIL  $1: $2"; sed 's/^/        stderr: /' "$logs/stderr"; }

# The stdout and stderr of the command expect_error runs; it runs in $work
# (a script may set it; $tmp by default).
logs=$tmp/logs
mkdir -p "$logs"

# expect_error NAME CODE NEEDLE MUST_NOT_EXIST -- COMMAND...
#   CODE: expected exit code; NEEDLE: text stderr must contain (the flag or
#   file at fault); MUST_NOT_EXIST: a path the command must not create ("-"
#   for none). With MAX_RSS_MB=N in the environment, the command's peak
#   resident memory must also stay within N MiB (a refusal must cost no more
#   than the bytes needed to decide it).
expect_error() {
  local name=$1 code=$2 needle=$3 absent=$4
  shift 5
  local measure=()
  [[ -n ${MAX_RSS_MB:-} ]] && measure=("$PY" -c "$peak_rss_py" "$logs/rss")
  rm -f "$logs/rss"
  (cd "${work:-$tmp}" && "${measure[@]}" "$@" >"$logs/stdout" 2>"$logs/stderr")
  local rc=$? problems=()
  [[ $rc -eq $code ]] || problems+=("exit code $rc, expected $code")
  if [[ -n ${MAX_RSS_MB:-} ]]; then
    local rss
    rss=$(cat "$logs/rss" 2>/dev/null)
    [[ -n $rss && $rss -le $MAX_RSS_MB ]] || problems+=("peak RSS ${rss:-unknown} MiB, the bound is $MAX_RSS_MB MiB")
  fi
  local lines
  lines=$(wc -l <"$logs/stderr")
  if [[ $lines -ne 1 || -n $(tail -c1 "$logs/stderr") ]]; then
    problems+=("stderr is not exactly one line ($lines newlines)")
  fi
  head -n1 "$logs/stderr" | grep -q '^aekit' || problems+=("stderr does not start with 'aekit'")
  grep -qF -- "$needle" "$logs/stderr" || problems+=("stderr does not name '$needle'")
  if [[ $absent != - && -e $absent ]]; then
    problems+=("$absent was created")
    rm -rf "$absent"
  fi
  local leftovers
  leftovers=$(aekit_temps "$tmp")
  if [[ -n $leftovers ]]; then
    problems+=("temporary files left: $(echo $leftovers)")
    rm -f $leftovers
  fi
  if [[ ${#problems[@]} -eq 0 ]]; then
    ok "$name"
    [[ -n ${VERBOSE:-} ]] && sed 's/^/        stderr: /' "$logs/stderr"
  else bad "$name" "$(IFS=';'; echo "${problems[*]}")"; fi
}

# ---- stopping aekit at an exact point (strace) -------------------------------
# A test that needs aekit stopped at a given moment (SIGTERM after the first
# checkpoint or while the pictures are drawn, SIGKILL, a disk that fills at
# the model) injects the signal or the error into one of its renames with
# strace: every file aekit writes is renamed into place, in the same order
# for the same command and files, so no timing is involved. Without strace
# (or where ptrace is not allowed) such a test is skipped with a note.
# (LeakSanitizer cannot run under ptrace: an ASan build checks leaks elsewhere.)
can_strace() { strace -f -qq -o /dev/null -e trace=rename true 2>/dev/null; }
traced() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq "$@"; }

# renames_until NAME COMMAND...: runs COMMAND (output discarded) and prints
# the number of its renames up to and including the first one onto a file
# named NAME; nothing when there is none.
renames_until() {
  local name=$1
  shift
  traced -o "$tmp/renames.trace" -e trace=rename "$@" >/dev/null 2>&1 </dev/null
  awk -v name="/$name\")" '/ rename\(/ { n++; if (index($0, name)) { print n; exit } }' "$tmp/renames.trace"
}

# at_rename N ACTION COMMAND...: runs COMMAND with ACTION injected into its
# Nth rename: signal=SIGTERM (delivered as the rename starts, which still
# happens), signal=SIGKILL (the rename does not happen), error=ENOSPC (the
# rename fails as on a full disk).
at_rename() {
  local n=$1 action=$2
  shift 2
  traced -o /dev/null -e trace=rename -e "inject=rename:$action:when=$n" "$@"
}
