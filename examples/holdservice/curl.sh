#!/usr/bin/env bash
# Harbor Point's hold H-8821 over HTTP, with curl, across two processes:
# Lisbon and Baltimore each run holdservice on a loopback port with their own
# store and replicate over HTTP with a shared bearer token.
# The script partitions them, extends in one and confirms in the other from
# the same version, heals, shows every refusal the API makes, then stops
# Baltimore, writes in Lisbon while it is down, restarts it and watches
# anti-entropy bring it up to date. Run from anywhere:
#   bash examples/holdservice/curl.sh                # stores in memory: Baltimore restarts empty
#   STORE=sqlite bash examples/holdservice/curl.sh   # a SQLite file per region (adapters/sqlite's
#                                                    # cmd/holdservice): Baltimore restarts with its holds
set -euo pipefail
cd "$(dirname "$0")/../.."
LIS_PORT="${LIS_PORT:-18321}"
IAD_PORT="${IAD_PORT:-18322}"
LIS="http://127.0.0.1:$LIS_PORT"
IAD="http://127.0.0.1:$IAD_PORT"
# The regions' shared secret: it guards /replicate and /admin. Generate a
# fresh one per deployment; never leave replication open to the world.
export HOLDSERVICE_TOKEN="${HOLDSERVICE_TOKEN:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
AUTH=(-H "Authorization: Bearer $HOLDSERVICE_TOKEN")

dir="$(mktemp -d)"
bin="$dir/holdservice"
STORE="${STORE:-memory}"
case $STORE in
  memory) go build -o "$bin" ./examples/holdservice ;;
  # The SQLite store is in the adapter's own module: the same program, built there.
  sqlite) (cd adapters/sqlite && go build -o "$bin" ./cmd/holdservice) ;;
  *) echo "STORE=$STORE: want memory or sqlite"; exit 2 ;;
esac
store() { if [ "$STORE" = sqlite ]; then echo "sqlite:$dir/$1.db"; else echo memory; fi; }
start() { # start REGION PORT PEER_PORT: runs a region in the background
  "$bin" -region "$1" -addr "127.0.0.1:$2" -peer "http://127.0.0.1:$3" -sync 1s -store "$(store "$1")" >>"$dir/$1.log" 2>&1 &
  echo $! >"$dir/$1.pid"
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$2/conflicts" && return; sleep 0.1; done
  echo "$1 did not start:"; cat "$dir/$1.log"; exit 1
}
stop() { # stop REGION
  local pid; pid=$(cat "$dir/$1.pid")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap 'stop lisbon; stop baltimore; rm -rf "$dir"' EXIT
start lisbon "$LIS_PORT" "$IAD_PORT"
start baltimore "$IAD_PORT" "$LIS_PORT"

# show METHOD URL [curl args...]: print the request, the status line, the
# headers worth reading, and the body.
show() {
  local method=$1 url=$2; shift 2
  printf "\n\$ curl -X %s '%s'" "$method" "${url/$LIS/\$LIS}" | sed "s|$IAD|\$IAD|"
  local a; for a in "$@"; do case $a in -*) printf ' %s' "$a";; "Authorization: "*) printf " 'Authorization: Bearer \$HOLDSERVICE_TOKEN'";; *) printf " '%s'" "$a";; esac; done
  printf '\n'
  curl -s -i -X "$method" "$url" "$@" | tr -d '\r' |
    grep -v -i -E '^(date|content-length|content-type: application/json)' | sed 's/^/  /'
}
etag() { curl -s -o /dev/null -D - "$1" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p'; }
sync() { curl -s -X POST "${AUTH[@]}" "$1/admin/sync"; }
J=(-H 'Content-Type: application/json')

echo "== Lisbon ($LIS) and Baltimore ($IAD) replicate over HTTP every second; stores: $STORE"
echo "== create H-8821 in Lisbon, 17 note edits to v18, replicate"
show PUT "$LIS/holds/H-8821" "${J[@]}" -H 'If-None-Match: *' -d '{"cabin":"C14","agency":"lisbon-desk","expires_in":"10m"}'
for i in $(seq 2 18); do curl -s -o /dev/null -X PATCH "$LIS/holds/H-8821/note" "${J[@]}" -d "{\"note\":\"draft $i\"}"; done
sync "$LIS"
V18=$(etag "$IAD/holds/H-8821")
echo "v18 as Baltimore read it: ETag $V18"

echo; echo "== partition; Lisbon extends (command), Baltimore confirms (If-Match v18)"
curl -s -X POST "${AUTH[@]}" "$LIS/admin/partition"
curl -s -X POST "${AUTH[@]}" "$IAD/admin/partition"
show POST "$LIS/holds/H-8821/extend" "${J[@]}" -H 'Idempotency-Key: "lis-extend-1"' -d '{"by":"5m","agency":"lisbon-desk"}'
show POST "$IAD/holds/H-8821/confirm" "${J[@]}" -H "If-Match: $V18" -d '{"booking_id":"B-3107","agency":"baltimore-payments"}'
show POST "$LIS/admin/sync" "${AUTH[@]}"

echo; echo "== heal: confirmed is absorbing and keeps its terms, in both regions"
curl -s -o /dev/null -X DELETE "${AUTH[@]}" "$IAD/admin/partition" # its sync fails: Lisbon is still cut off
curl -s -X DELETE "${AUTH[@]}" "$LIS/admin/partition"
show GET "$LIS/holds/H-8821"
CUR=$(etag "$LIS/holds/H-8821")
echo "Baltimore's ETag: $(etag "$IAD/holds/H-8821") (Lisbon's: $CUR)"

echo; echo "== refusals"
show POST "$LIS/holds/H-8821/release" -H "If-Match: $V18"
show POST "$LIS/holds/H-8821/release"
show POST "$LIS/holds/H-8821/release" -H "If-Match: W/$CUR"
show POST "$LIS/holds/H-8821/release" -H "If-Match: $CUR"
show POST "$LIS/holds/H-8821/extend" "${J[@]}" -d '{"by":"5m"}'
show POST "$LIS/holds/H-8821/extend" "${J[@]}" -H 'Idempotency-Key: "lis-extend-1"' -d '{"by":"5m","agency":"lisbon-desk"}'
show POST "$IAD/holds/H-8821/extend" "${J[@]}" -H 'Idempotency-Key: "lis-extend-1"' -d '{"by":"5m","agency":"lisbon-desk"}'
show POST "$LIS/holds/H-8821/extend" "${J[@]}" -H 'Idempotency-Key: "lis-extend-1"' -d '{"by":"9m"}'
show POST "$LIS/replicate" -H 'Content-Type: application/vnd.concord.replication' --data-binary R

echo; echo "== H-8823: a release racing an extend is not merged"
curl -s -o /dev/null -X PUT "$LIS/holds/H-8823" "${J[@]}" -H 'If-None-Match: *' -d '{"cabin":"C16","agency":"lisbon-desk","expires_in":"10m"}'
sync "$LIS"
BASE=$(etag "$IAD/holds/H-8823")
curl -s -X POST "${AUTH[@]}" "$LIS/admin/partition"
curl -s -X POST "${AUTH[@]}" "$IAD/admin/partition"
curl -s -o /dev/null -X POST "$LIS/holds/H-8823/extend" "${J[@]}" -H 'Idempotency-Key: lis-extend-9' -d '{"by":"5m"}'
curl -s -o /dev/null -X POST "$IAD/holds/H-8823/release" -H "If-Match: $BASE"
curl -s -o /dev/null -X DELETE "${AUTH[@]}" "$IAD/admin/partition" # its sync fails: Lisbon is still cut off
curl -s -X DELETE "${AUTH[@]}" "$LIS/admin/partition"
show GET "$IAD/conflicts"
CONFLICT=$(etag "$LIS/holds/H-8823")
show POST "$LIS/holds/H-8823/confirm" "${J[@]}" -H "If-Match: $CONFLICT" -d '{"booking_id":"B-9"}'
show POST "$LIS/holds/H-8823/resolve" "${J[@]}" -H "If-Match: $CONFLICT" -d '{"keep":"'"$(curl -s "$LIS/holds/H-8823" | sed -n 's/.*"dot": "\(baltimore[^"]*\)".*/\1/p' | head -1)"'"}'

echo; echo "== Baltimore stops; Lisbon takes holds while it is down"
stop baltimore
for i in 1 2 3; do
  curl -s -o /dev/null -X PUT "$LIS/holds/H-99$i" "${J[@]}" -H 'If-None-Match: *' -d '{"cabin":"C2'"$i"'","agency":"lisbon-desk","expires_in":"10m"}'
done
sleep 1.5
echo "  Lisbon's replication status: $(curl -s "$LIS/debug/vars" | grep -o '"Failures":[0-9]*'), last error: $(curl -s "$LIS/debug/vars" | grep -o 'dial tcp[^"]*' | head -1)"
if [ "$STORE" = sqlite ]; then
  echo; echo "== Baltimore restarts on its file, as the same replica, with every hold it acknowledged; anti-entropy brings the rest"
else
  echo; echo "== Baltimore restarts empty, as a new incarnation; anti-entropy refills it"
fi
start baltimore "$IAD_PORT" "$LIS_PORT"
grep -o 'replica [^,]*, store [^)]*' "$dir/baltimore.log" | sed -n '1s/^/  Baltimore before the stop: /p; 2s/^/  Baltimore after the restart: /p'
if [ "$STORE" = sqlite ]; then
  echo "  H-8821 in Baltimore before any sync: HTTP $(curl -s -o /dev/null -w '%{http_code}' "$IAD/holds/H-8821"), ETag $(etag "$IAD/holds/H-8821")"
fi
sync "$IAD"
show GET "$IAD/holds/H-992"
echo "H-8821 in Baltimore: ETag $(etag "$IAD/holds/H-8821") (Lisbon's: $(etag "$LIS/holds/H-8821"))"

sync "$LIS"
echo; echo "== what the operator sees in Lisbon"
show GET "$LIS/debug/vars"
