#!/bin/sh
# Checks that the committed web/dist is what the sources build to: the
# binary embeds web/dist, so a page edit without a rebuild would ship the
# old page. The build is deterministic (locked versions, fixed file names,
# no hashes or timestamps), so a fresh build must be byte-identical.
# Run from web/ after `npm ci`: npm run check-dist
set -eu
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx tsc --noEmit
npx vite build --logLevel warn --outDir "$out" --emptyOutDir
if ! diff -rq dist "$out" >&2; then
  echo "web/dist is stale: run 'npm run build' in web/ and commit web/dist" >&2
  exit 1
fi
echo "web/dist is up to date with web/src"
