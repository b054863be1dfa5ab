#!/usr/bin/env bash
# Runs the object, listing, multipart, copy, range and raw-GET tests of Ceph's s3-tests against
# the local S3 (local/s3), on a scratch data folder and a free port.
#
#   test/s3-conformance/run.sh <path to an s3-tests checkout> [more pytest arguments]
#
# S3_ENDPOINT_URL=http://127.0.0.1:<port> runs them against an S3 already listening instead.
#
# Needs python3 with boto3 and pytest (Debian: python3-boto3 python3-pytest), plus isodate,
# pytz and python-dateutil (python3-isodate python3-tz python3-dateutil); munch, used only as
# an attribute bag, is stood in for by python-shims/munch.py. Tests listed in not-applicable.txt (with their reasons) are
# deselected; whole features the store does not have (versioning, tagging, encryption, object
# lock, policies, lifecycle, website, ...) are left out by the suite's own markers below.
set -euo pipefail

checkout=${1:?usage: $0 <path to an s3-tests checkout> [pytest arguments]}
shift
checkout=$(cd "$checkout" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
server=''
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${S3_ENDPOINT_URL:-}" ]; then
  # Another S3 already listening (to compare stores): http://127.0.0.1:<port>.
  url=$S3_ENDPOINT_URL
else
  node --import tsx "$root/local/s3/main.ts" "$work/data" >"$work/server.out" 2>"$work/server.err" &
  server=$!
  for _ in $(seq 1 100); do
    grep -q '^http://' "$work/server.out" 2>/dev/null && break
    sleep 0.1
  done
  url=$(head -1 "$work/server.out")
  [ -n "$url" ] || { cat "$work/server.err"; echo 'the local S3 did not start' >&2; exit 1; }
fi
sed "s/@PORT@/${url##*:}/" "$here/s3tests.conf.template" >"$work/s3tests.conf"

deselect=()
while read -r name _; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  deselect+=(--deselect "s3tests/functional/test_s3.py::$name")
done <"$here/not-applicable.txt"

groups='test_object_ or test_bucket_list or test_multipart or copy or test_ranged'
absent='versioning or tagging or encryption or sse_s3 or object_lock or bucket_policy or lifecycle'
absent+=' or s3website or storage_class or appendobject or bucket_logging or cloud_transition'
absent+=' or cloud_restore or s3select or fails_on_aws or iam_user or iam_account'
absent+=' or iam_cross_account or user_policy or group_policy or role_policy or session_policy'

cd "$checkout"
echo "local S3 at $url; s3-tests at $checkout ($(git -C "$checkout" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"
PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$here/python-shims" S3TEST_CONF="$work/s3tests.conf" \
  python3 -m pytest s3tests/functional/test_s3.py -k "$groups" -m "not ($absent)" "${deselect[@]}" \
  -p no:cacheprovider -q "$@"
