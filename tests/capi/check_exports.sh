#!/usr/bin/env bash
# The exported symbols of libtenure.so must be exactly the functions tenure.h declares:
# nothing of Boost, OpenSSL, hiredis, libpq or our C++ may leak, and nothing declared may be missing.
set -euo pipefail
lib=$1 header=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWwDdBbRr]$/ {print $3}' | sed 's/@.*//' | sort -u)
declared=$(grep -oE 'TENURE_API[^;]*\b(tenure_[a-z0-9_]+)\(' "$header" | grep -oE 'tenure_[a-z0-9_]+\(' | tr -d '(' | sort -u)
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
ok=1
if [ -n "$extra" ]; then echo "exported but not in tenure.h:"; echo "$extra" | head -20; ok=0; fi
if [ -n "$missing" ]; then echo "declared in tenure.h but not exported:"; echo "$missing"; ok=0; fi
n=$(echo "$declared" | wc -l)
if [ $ok = 1 ]; then echo "exports match tenure.h ($n functions)"; echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed"; exit 1
