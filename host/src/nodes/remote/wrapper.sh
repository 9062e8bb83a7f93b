# The shell a remote node runs in (POSIX sh, run by `ssh RUNNER 'exec sh -c …'`).
# Arguments: node dir, 1 on the first start, home, event pipe, then `env -- K=V… PROGRAM ARGS…`.
# Protocol on stderr, one line each: `2 LINE` the node's stderr, `e LINE` its event pipe,
# `p PID` its process group, `s` stopped, `m HWM RSS` memory (kB), `x STATUS` how it ended.
# Commands on stdin, one a line: TERM KILL STOP CONT INT HUP MEM. When stdin closes (the
# host let go, or the connection dropped) the node's whole process group is killed.
d=$1 fresh=$2 h=$3 f=$4
shift 4
if [ "$fresh" = 1 ]; then
  mkdir -p -- "${d%/*}" && mkdir -- "$d" || exit 125
fi
mkdir -p -- "$h" && cd -- "$h" || exit 125
rm -f -- "$f" "$f.err"
mkfifo -m 600 -- "$f" "$f.err" || exit 125
exec 3<&0
sed -u 's/^/e /' <"$f" >&2 3<&- &
sed -u 's/^/2 /' <"$f.err" >&2 3<&- &
exec 4>"$f"
setsid "$@" </dev/null 2>"$f.err" 3<&- 4>&- &
p=$!
printf 'p %s\n' "$p" >&2
stopped() {
  for t in /proc/"$p"/task/*/stat; do
    [ -r "$t" ] || continue
    case $(sed 's/.*) \(.\).*/\1/' "$t" 2>/dev/null) in T|t|Z|X|'') ;; *) return 1 ;; esac
  done
  return 0
}
(
  while IFS= read -r c; do
    case $c in
      TERM|KILL|CONT|INT|HUP) kill -s "$c" -- "-$p" 2>/dev/null ;;
      STOP)
        kill -s STOP -- "-$p" 2>/dev/null
        i=0
        while [ "$i" -lt 500 ] && ! stopped; do sleep 0.01; i=$((i + 1)); done
        echo s >&2 ;;
      MEM) printf 'm %s\n' "$(sed -n -e 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' -e 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' /proc/"$p"/status 2>/dev/null | tr '\n' ' ')" >&2 ;;
    esac
  done
  kill -s KILL -- "-$p" 2>/dev/null
) <&3 4>&- &
w=$!
exec 3<&-
trap '' PIPE
wait "$p" 2>/dev/null
s=$?
kill -s KILL -- "-$p" 2>/dev/null
kill "$w" 2>/dev/null
exec 4>&-
wait 2>/dev/null
# The blank line ends a last line the node left unterminated.
printf '\nx %s\n' "$s" >&2
