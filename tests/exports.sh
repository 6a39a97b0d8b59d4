#!/usr/bin/env bash
# ctest exports: libugatit.so exports (nm -D --defined-only) exactly the
# functions that include/ugatit.h declares, nothing more and nothing less.
#
#   tests/exports.sh NM LIBUGATIT_SO UGATIT_H
set -euo pipefail
nm=$1 lib=$2 header=$3
declared=$(grep -oE '\bug_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u)
exported=$("$nm" -D --defined-only "$lib" | awk '{print $NF}' | sort -u)
if [ "$declared" != "$exported" ]; then
    echo "exports: $lib differs from $header (< declared only, > exported only):"
    diff <(echo "$declared") <(echo "$exported") | grep '^[<>]'
    exit 1
fi
echo "exports: $(echo "$exported" | wc -l) functions, all declared in $header"
