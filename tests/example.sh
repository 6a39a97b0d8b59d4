#!/usr/bin/env bash
# The example program on a model made here (ctest example_translate; also run
# by .ci/run on the program built against the installed library): with a light
# img-32 model trained for one step on `ugatit make-shapes` data, TRANSLATE
# turns a 32x32 PPM into a 32x32 PPM, and refuses a 16x16 one with a message
# naming the size it needs.
#
#   tests/example.sh TRANSLATE UGATIT
set -euo pipefail
translate=$1 ugatit=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ugatit" make-shapes --out "$tmp/shapes" --n 2 --size 32 >/dev/null
"$ugatit" train --dataset "$tmp/shapes" --result_dir "$tmp/r" --iteration 1 --img_size 32 \
    --ch 4 --n_res 1 --n_dis 4 --light true >/dev/null
model=$tmp/r/shapes/model/shapes_params_0000001.safetensors
ppm() { printf 'P6\n%d %d\n255\n' "$1" "$1"; head -c $(($1 * $1 * 3)) /dev/urandom; }
ppm 32 >"$tmp/in.ppm"
"$translate" "$model" "$tmp/in.ppm" "$tmp/out.ppm"
size=$(stat -c %s "$tmp/out.ppm")
[ "$size" = $((13 + 32 * 32 * 3)) ] || { echo "example: out.ppm has $size bytes"; exit 1; }
head -c 13 "$tmp/out.ppm" | cmp - <(printf 'P6\n32 32\n255\n')
ppm 16 >"$tmp/small.ppm"
if "$translate" "$model" "$tmp/small.ppm" "$tmp/out2.ppm" 2>"$tmp/err"; then
    echo "example: a 16x16 image was accepted by a 32x32 model"; exit 1
fi
grep -q "small.ppm: cannot read it as a binary PPM (P6, maxval 255) of 32x32 pixels" "$tmp/err"
[ ! -e "$tmp/out2.ppm" ]
echo "example: 32x32 translated, 16x16 refused"
