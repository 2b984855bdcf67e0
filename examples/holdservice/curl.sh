#!/usr/bin/env bash
# The lesson's hold H-8821 over HTTP, with curl: starts holdservice on a
# loopback port, partitions Lisbon from Baltimore, extends in one and
# confirms in the other from the same version, heals, and shows every
# refusal the API makes. Run from anywhere: bash examples/holdservice/curl.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT="${PORT:-18321}"
B="http://127.0.0.1:$PORT"
bin="$(mktemp -d)/holdservice"
go build -o "$bin" ./examples/holdservice
"$bin" -addr "127.0.0.1:$PORT" -sync 1s >/dev/null 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; rm -rf "$(dirname "$bin")"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "$B/conflicts" && break; sleep 0.1; done

# show METHOD PATH [curl args...]: print the request, the status line, the
# headers worth reading, and the body.
show() {
  local method=$1 path=$2; shift 2
  printf "\n\$ curl -X %s '\$B%s'" "$method" "$path"
  local a; for a in "$@"; do case $a in -*) printf ' %s' "$a";; *) printf " '%s'" "$a";; esac; done
  printf '\n'
  curl -s -i -X "$method" "$B$path" "$@" | tr -d '\r' |
    grep -v -i -E '^(date|content-length|content-type: application/json)' | sed 's/^/  /'
}
etag() { curl -s -o /dev/null -D - "$B$1" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p'; }
J=(-H 'Content-Type: application/json')

echo "== create H-8821 in Lisbon, 17 note edits to v18, replicate"
show PUT /holds/H-8821 "${J[@]}" -H 'If-None-Match: *' -d '{"cabin":"C14","agency":"lisbon-desk","expires_in":"10m"}'
for i in $(seq 2 18); do curl -s -o /dev/null -X PATCH "$B/holds/H-8821/note" "${J[@]}" -d "{\"note\":\"draft $i\"}"; done
curl -s -X POST "$B/admin/sync"
V18=$(etag "/holds/H-8821?region=baltimore")
echo "v18 as Baltimore read it: ETag $V18"

echo; echo "== partition; Lisbon extends (command), Baltimore confirms (If-Match v18)"
curl -s -X POST "$B/admin/partition"
show POST '/holds/H-8821/extend?region=lisbon' "${J[@]}" -H 'Idempotency-Key: "lis-extend-1"' -d '{"by":"5m","agency":"lisbon-desk"}'
show POST '/holds/H-8821/confirm?region=baltimore' "${J[@]}" -H "If-Match: $V18" -d '{"booking_id":"B-3107","agency":"baltimore-payments"}'

echo; echo "== heal: confirmed is absorbing and keeps its terms, in both regions"
curl -s -X DELETE "$B/admin/partition"
show GET '/holds/H-8821?region=lisbon'
CUR=$(etag /holds/H-8821)

echo; echo "== refusals"
show POST /holds/H-8821/release -H "If-Match: $V18"
show POST /holds/H-8821/release
show POST /holds/H-8821/release -H "If-Match: W/$CUR"
show POST /holds/H-8821/release -H "If-Match: $CUR"
show POST /holds/H-8821/extend "${J[@]}" -d '{"by":"5m"}'
show POST '/holds/H-8821/extend?region=baltimore' "${J[@]}" -H 'Idempotency-Key: "lis-extend-1"' -d '{"by":"5m","agency":"lisbon-desk"}'
show POST /holds/H-8821/extend "${J[@]}" -H 'Idempotency-Key: "lis-extend-1"' -d '{"by":"9m"}'

echo; echo "== H-8823: a release racing an extend is not merged"
curl -s -o /dev/null -X PUT "$B/holds/H-8823" "${J[@]}" -H 'If-None-Match: *' -d '{"cabin":"C16","agency":"lisbon-desk","expires_in":"10m"}'
curl -s -X POST "$B/admin/sync"
BASE=$(etag "/holds/H-8823?region=baltimore")
curl -s -X POST "$B/admin/partition"
curl -s -o /dev/null -X POST "$B/holds/H-8823/extend" "${J[@]}" -H 'Idempotency-Key: lis-extend-9' -d '{"by":"5m"}'
curl -s -o /dev/null -X POST "$B/holds/H-8823/release?region=baltimore" -H "If-Match: $BASE"
curl -s -X DELETE "$B/admin/partition"
show GET /conflicts
CONFLICT=$(etag /holds/H-8823)
show POST /holds/H-8823/confirm "${J[@]}" -H "If-Match: $CONFLICT" -d '{"booking_id":"B-9"}'
show POST /holds/H-8823/resolve "${J[@]}" -H "If-Match: $CONFLICT" -d '{"keep":"baltimore:1"}'

echo; echo "== what the operator sees"
show GET /debug/vars
