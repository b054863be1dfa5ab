;; Bilinear scaling of one sample of 8-bit pixels into normalized float32 rows, for bilinear.ts.
;; In WebAssembly because V8 runs the same loops written in JavaScript 3-4x slower
;; (bounds-checked gathers from typed arrays it cannot hoist), and image preprocessing shares
;; the vCPUs with inference. `npm run build:wasm` assembles it into bilinear-wasm.ts; a unit
;; test checks that the two agree.
;;
;; Addresses are byte offsets into the exported memory. Sampling tables (from writeSampling in
;; bilinear.ts): for each target column, the byte offsets within a row of its left and right
;; source pixels (i32) and the right one's weight (f32); for each target row, the byte offsets
;; of its top and bottom source rows (i32) and the bottom one's weight (f32).
(module
  (memory (export "memory") 1)

  ;; One source row's samples, from byte $start, scaled across into $out (f32 x $width).
  (func $scaleRow (param $start i32) (param $lowX i32) (param $highX i32) (param $weightX i32)
                  (param $width i32) (param $out i32)
    (local $x i32) (local $at i32) (local $left f32) (local $right f32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $width)))
        (local.set $at (i32.shl (local.get $x) (i32.const 2)))
        (local.set $left (f32.convert_i32_u (i32.load8_u
          (i32.add (local.get $start) (i32.load (i32.add (local.get $lowX) (local.get $at)))))))
        (local.set $right (f32.convert_i32_u (i32.load8_u
          (i32.add (local.get $start) (i32.load (i32.add (local.get $highX) (local.get $at)))))))
        (f32.store (i32.add (local.get $out) (local.get $at))
          (f32.add (local.get $left)
            (f32.mul (f32.sub (local.get $right) (local.get $left))
              (f32.load (i32.add (local.get $weightX) (local.get $at))))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $next))))

  ;; Scales the $sample-th byte of each pixel to $height rows of $width values, each
  ;; value * $gain + $bias, written from $dst in rows of $paddedWidth values, zeros right of
  ;; $width. Separable: each source row is scaled across once (into $upper or
  ;; $lower, f32 x $width each) and kept while the next target row still blends it.
  (func (export "scalePlane")
    (param $pixels i32) (param $sample i32)
    (param $lowX i32) (param $highX i32) (param $weightX i32) (param $width i32)
    (param $lowY i32) (param $highY i32) (param $weightY i32) (param $height i32)
    (param $upper i32) (param $lower i32)
    (param $dst i32) (param $paddedWidth i32) (param $gain f32) (param $bias f32)
    (local $y i32) (local $x i32) (local $at i32) (local $top i32) (local $bottom i32)
    (local $upperAt i32) (local $lowerAt i32) (local $swap i32) (local $below i32)
    (local $weight f32) (local $row i32) (local $u f32)
    (local.set $upperAt (i32.const -1))
    (local.set $lowerAt (i32.const -1))
    (block $rowsDone
      (loop $nextRow
        (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $height)))
        (local.set $at (i32.shl (local.get $y) (i32.const 2)))
        (local.set $top (i32.load (i32.add (local.get $lowY) (local.get $at))))
        (local.set $bottom (i32.load (i32.add (local.get $highY) (local.get $at))))
        ;; Moving down a row: the old bottom row is the new top one.
        (if (i32.eq (local.get $top) (local.get $lowerAt)) (then
          (local.set $swap (local.get $upper))
          (local.set $upper (local.get $lower))
          (local.set $lower (local.get $swap))
          (local.set $upperAt (local.get $lowerAt))
          (local.set $lowerAt (i32.const -1))))
        (if (i32.ne (local.get $top) (local.get $upperAt)) (then
          (call $scaleRow
            (i32.add (local.get $pixels) (i32.add (local.get $top) (local.get $sample)))
            (local.get $lowX) (local.get $highX) (local.get $weightX) (local.get $width) (local.get $upper))
          (local.set $upperAt (local.get $top))))
        (if (i32.and (i32.ne (local.get $bottom) (local.get $lowerAt))
                     (i32.ne (local.get $bottom) (local.get $upperAt))) (then
          (call $scaleRow
            (i32.add (local.get $pixels) (i32.add (local.get $bottom) (local.get $sample)))
            (local.get $lowX) (local.get $highX) (local.get $weightX) (local.get $width) (local.get $lower))
          (local.set $lowerAt (local.get $bottom))))
        ;; The last rows clamp to the image: top and bottom are the same row.
        (local.set $below (select (local.get $upper) (local.get $lower)
          (i32.eq (local.get $bottom) (local.get $upperAt))))
        (local.set $weight (f32.load (i32.add (local.get $weightY) (local.get $at))))
        (local.set $row (i32.add (local.get $dst)
          (i32.shl (i32.mul (local.get $y) (local.get $paddedWidth)) (i32.const 2))))
        (local.set $x (i32.const 0))
        (block $columnsDone
          (loop $nextColumn
            (br_if $columnsDone (i32.ge_u (local.get $x) (local.get $width)))
            (local.set $at (i32.shl (local.get $x) (i32.const 2)))
            (local.set $u (f32.load (i32.add (local.get $upper) (local.get $at))))
            (f32.store (i32.add (local.get $row) (local.get $at))
              (f32.add
                (f32.mul
                  (f32.add (local.get $u)
                    (f32.mul
                      (f32.sub (f32.load (i32.add (local.get $below) (local.get $at))) (local.get $u))
                      (local.get $weight)))
                  (local.get $gain))
                (local.get $bias)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $nextColumn)))
        (block $paddingDone
          (loop $nextPadding
            (br_if $paddingDone (i32.ge_u (local.get $x) (local.get $paddedWidth)))
            (f32.store (i32.add (local.get $row) (i32.shl (local.get $x) (i32.const 2))) (f32.const 0))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $nextPadding)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $nextRow))))
)
