;; SIMD inner loops of the softmax cross-entropy kernel (src/kernels/simdKernels.ts loads them).
;; Compiled to src/kernels/simd/binary.ts by `npm run build:simd` (wabt's wat2wasm, from npm).
;;
;; The caller copies the logits into this module's memory as `rows` rows of `cols` float32 and calls,
;; for all rows at once:
;;   softmax_rows(logits, exps, rows, cols, stats, numerators, pull)
;;       per row r: max, exps[c] = exp(x[c] - max) (float32) and their sum accumulated in float64,
;;       stored as float64 stats[2r] = max, stats[2r + 1] = sum; then, when numerators is not 0,
;;       exps[c] = exps[c] * (numerators[r] / sum) - pull[c] while the row is still in cache
;;       (numerators float64 per row, pull float32 per class): the row's gradient but for its target.
;;   bce_logits(x, y, weight, posWeight, count, scale, losses, inputGradient, targetGradient) -> f64
;;       binary cross-entropy with logits of `count` float32 elements: returns the float64 sum of the
;;       losses w·((1-y)·softplus(x) + pw·y·softplus(-x)); writes each loss to `losses`, and
;;       w·((1-y)·σ(x) - pw·y·σ(-x))·scale, w·(pw·softplus(-x) - softplus(x))·scale to the gradients,
;;       where those pointers are not 0; weight and posWeight pointers of 0 mean all ones. Uses
;;       log1p(e) = 2·atanh(e/(2+e)) (a series in s² = (e/(2+e))² <= 1/9) for e = exp(-|x|).
;;       count must be a multiple of 4 (the caller pads).
;; Pointers are byte offsets. exp is Cephes' expf (error about 1 ulp of float32): range reduction by
;; ln 2 in two parts and a degree-6 polynomial; arguments below -87.33 give 0, NaN gives NaN.
(module
  (memory (export "memory") 1)

  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128) (local $tiny v128)
    (local.set $tiny (f32x4.lt (local.get $x) (v128.const f32x4 -87.33654 -87.33654 -87.33654 -87.33654)))
    (local.set $x (f32x4.pmax (local.get $x) (v128.const f32x4 -87.33654 -87.33654 -87.33654 -87.33654)))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))))
    (local.set $r
      (f32x4.sub
        (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
        (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    ;; p·r² + r + 1
    (local.set $p
      (f32x4.add
        (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
        (v128.const f32x4 1 1 1 1)))
    ;; times 2^n, n in [-126, 0]: the float32 whose exponent bits are n + 127; then 0 where x was tiny.
    (v128.andnot
      (f32x4.mul
        (local.get $p)
        (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
      (local.get $tiny)))

  (func (export "softmax_rows") (param $logits i32) (param $exps i32) (param $rows i32) (param $cols i32) (param $stats i32) (param $numerators i32) (param $pull i32)
    (local $row i32) (local $at i32) (local $end i32) (local $vectorEnd i32) (local $out i32)
    (local $maxv v128) (local $max f32) (local $maxSplat v128) (local $e v128) (local $sum v128) (local $total f64)
    (local $x v128) (local $n v128) (local $r v128) (local $p v128) (local $tiny v128) (local $rowStart i32)
    (local.set $row (i32.const 0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $at (i32.add (local.get $logits) (i32.shl (i32.mul (local.get $row) (local.get $cols)) (i32.const 2))))
        (local.set $end (i32.add (local.get $at) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $vectorEnd (i32.sub (local.get $end) (i32.and (i32.shl (local.get $cols) (i32.const 2)) (i32.const 15))))
        ;; max: f32x4.pmax is one instruction (f32x4.max, which propagates NaN, is a long sequence); a NaN
        ;; logit is skipped here but makes its exp, and so the sum, NaN below.
        (local.set $maxv (v128.const f32x4 -inf -inf -inf -inf))
        (block $maxDone
          (loop $maxLoop
            (br_if $maxDone (i32.ge_u (local.get $at) (local.get $vectorEnd)))
            (local.set $maxv (f32x4.pmax (local.get $maxv) (v128.load (local.get $at))))
            (local.set $at (i32.add (local.get $at) (i32.const 16)))
            (br $maxLoop)))
        (local.set $max
          (f32.max
            (f32.max (f32x4.extract_lane 0 (local.get $maxv)) (f32x4.extract_lane 1 (local.get $maxv)))
            (f32.max (f32x4.extract_lane 2 (local.get $maxv)) (f32x4.extract_lane 3 (local.get $maxv)))))
        (block $maxTailDone
          (loop $maxTail
            (br_if $maxTailDone (i32.ge_u (local.get $at) (local.get $end)))
            (local.set $max (f32.max (local.get $max) (f32.load (local.get $at))))
            (local.set $at (i32.add (local.get $at) (i32.const 4)))
            (br $maxTail)))
        ;; exps and their float64 sum
        (local.set $maxSplat (f32x4.splat (local.get $max)))
        (local.set $at (i32.add (local.get $logits) (i32.shl (i32.mul (local.get $row) (local.get $cols)) (i32.const 2))))
        (local.set $out (i32.add (local.get $exps) (i32.shl (i32.mul (local.get $row) (local.get $cols)) (i32.const 2))))
        (local.set $sum (v128.const f64x2 0 0))
        (block $expDone
          (loop $expLoop
            (br_if $expDone (i32.ge_u (local.get $at) (local.get $vectorEnd)))
            ;; $exp4 written out here: a call per vector costs as much as the exponential.
            (local.set $x (f32x4.sub (v128.load (local.get $at)) (local.get $maxSplat)))
            (local.set $tiny (f32x4.lt (local.get $x) (v128.const f32x4 -87.33654 -87.33654 -87.33654 -87.33654)))
            (local.set $x (f32x4.pmax (local.get $x) (v128.const f32x4 -87.33654 -87.33654 -87.33654 -87.33654)))
            (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))))
            (local.set $r
              (f32x4.sub
                (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
                (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
            (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
            (local.set $p
              (f32x4.add
                (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
                (v128.const f32x4 1 1 1 1)))
            (local.set $e
              (v128.andnot
                (f32x4.mul
                  (local.get $p)
                  (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
                (local.get $tiny)))
            (v128.store (local.get $out) (local.get $e))
            (local.set $sum
              (f64x2.add
                (f64x2.add (local.get $sum) (f64x2.promote_low_f32x4 (local.get $e)))
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e) (local.get $e)))))
            (local.set $at (i32.add (local.get $at) (i32.const 16)))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (br $expLoop)))
        (local.set $total (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
        (block $expTailDone
          (loop $expTail
            (br_if $expTailDone (i32.ge_u (local.get $at) (local.get $end)))
            (local.set $e (call $exp4 (f32x4.splat (f32.sub (f32.load (local.get $at)) (local.get $max)))))
            (f32.store (local.get $out) (f32x4.extract_lane 0 (local.get $e)))
            (local.set $total (f64.add (local.get $total) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $e)))))
            (local.set $at (i32.add (local.get $at) (i32.const 4)))
            (local.set $out (i32.add (local.get $out) (i32.const 4)))
            (br $expTail)))
        (f64.store (i32.add (local.get $stats) (i32.shl (local.get $row) (i32.const 4))) (f64.promote_f32 (local.get $max)))
        (f64.store (i32.add (local.get $stats) (i32.add (i32.shl (local.get $row) (i32.const 4)) (i32.const 8))) (local.get $total))
        (if (local.get $numerators)
          (then
            (local.set $rowStart (i32.add (local.get $exps) (i32.shl (i32.mul (local.get $row) (local.get $cols)) (i32.const 2))))
            (call $scaleRow
              (local.get $rowStart)
              (i32.add (local.get $rowStart) (i32.shl (local.get $cols) (i32.const 2)))
              (f32.demote_f64 (f64.div (f64.load (i32.add (local.get $numerators) (i32.shl (local.get $row) (i32.const 3)))) (local.get $total)))
              (local.get $pull))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rowLoop))))

  ;; values[c] = values[c] * factor - pull[c] for the float32 values from byte $at to $end.
  (func $scaleRow (param $at i32) (param $end i32) (param $factor f32) (param $pull i32)
    (local $vectorEnd i32) (local $factorSplat v128)
    (local.set $factorSplat (f32x4.splat (local.get $factor)))
    (local.set $vectorEnd (i32.sub (local.get $end) (i32.and (i32.sub (local.get $end) (local.get $at)) (i32.const 15))))
    (block $done
      (loop $vector
        (br_if $done (i32.ge_u (local.get $at) (local.get $vectorEnd)))
        (v128.store (local.get $at) (f32x4.sub (f32x4.mul (v128.load (local.get $at)) (local.get $factorSplat)) (v128.load (local.get $pull))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (local.set $pull (i32.add (local.get $pull) (i32.const 16)))
        (br $vector)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $at) (local.get $end)))
        (f32.store (local.get $at) (f32.sub (f32.mul (f32.load (local.get $at)) (local.get $factor)) (f32.load (local.get $pull))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (local.set $pull (i32.add (local.get $pull) (i32.const 4)))
        (br $tail))))
  (func (export "bce_logits") (param $x i32) (param $y i32) (param $weight i32) (param $posWeight i32) (param $count i32) (param $scale f32)
    (param $losses i32) (param $inputGradient i32) (param $targetGradient i32) (result f64)
    (local $at i32) (local $end i32) (local $xv v128) (local $yv v128) (local $wv v128) (local $pwv v128) (local $e v128) (local $s v128) (local $s2 v128)
    (local $log1pE v128) (local $softplusX v128) (local $softplusNegX v128) (local $loss v128) (local $sigmoid v128) (local $positive v128)
    (local $sigmoidX v128) (local $sigmoidNegX v128) (local $oneMinusY v128) (local $pwY v128) (local $scaleSplat v128) (local $sum v128)
    (local.set $scaleSplat (f32x4.splat (local.get $scale)))
    (local.set $wv (v128.const f32x4 1 1 1 1))
    (local.set $pwv (v128.const f32x4 1 1 1 1))
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (local.set $at (i32.const 0))
    (block $done
      (loop $vector
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $xv (v128.load (i32.add (local.get $x) (local.get $at))))
        (local.set $yv (v128.load (i32.add (local.get $y) (local.get $at))))
        (if (local.get $weight) (then (local.set $wv (v128.load (i32.add (local.get $weight) (local.get $at))))))
        (if (local.get $posWeight) (then (local.set $pwv (v128.load (i32.add (local.get $posWeight) (local.get $at))))))
        (local.set $e (call $exp4 (f32x4.neg (f32x4.abs (local.get $xv)))))
        ;; log1p(e) = 2·atanh(s), s = e/(2+e): s·(2 + s²(2/3 + s²(2/5 + s²(2/7 + s²(2/9 + s²(2/11 + s²·2/13))))))
        (local.set $s (f32x4.div (local.get $e) (f32x4.add (local.get $e) (v128.const f32x4 2 2 2 2))))
        (local.set $s2 (f32x4.mul (local.get $s) (local.get $s)))
        (local.set $log1pE (v128.const f32x4 0.15384615 0.15384615 0.15384615 0.15384615))
        (local.set $log1pE (f32x4.add (f32x4.mul (local.get $log1pE) (local.get $s2)) (v128.const f32x4 0.18181818 0.18181818 0.18181818 0.18181818)))
        (local.set $log1pE (f32x4.add (f32x4.mul (local.get $log1pE) (local.get $s2)) (v128.const f32x4 0.22222222 0.22222222 0.22222222 0.22222222)))
        (local.set $log1pE (f32x4.add (f32x4.mul (local.get $log1pE) (local.get $s2)) (v128.const f32x4 0.28571429 0.28571429 0.28571429 0.28571429)))
        (local.set $log1pE (f32x4.add (f32x4.mul (local.get $log1pE) (local.get $s2)) (v128.const f32x4 0.4 0.4 0.4 0.4)))
        (local.set $log1pE (f32x4.add (f32x4.mul (local.get $log1pE) (local.get $s2)) (v128.const f32x4 0.66666667 0.66666667 0.66666667 0.66666667)))
        (local.set $log1pE (f32x4.mul (f32x4.add (f32x4.mul (local.get $log1pE) (local.get $s2)) (v128.const f32x4 2 2 2 2)) (local.get $s)))
        ;; softplus(±x) = max(±x, 0) + log1p(exp(-|x|)); pmax is exact for ±Infinity and keeps NaN
        (local.set $softplusX (f32x4.add (f32x4.pmax (local.get $xv) (v128.const f32x4 0 0 0 0)) (local.get $log1pE)))
        (local.set $softplusNegX (f32x4.add (f32x4.pmax (f32x4.neg (local.get $xv)) (v128.const f32x4 0 0 0 0)) (local.get $log1pE)))
        (local.set $oneMinusY (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $yv)))
        (local.set $pwY (f32x4.mul (local.get $pwv) (local.get $yv)))
        (local.set $loss
          (f32x4.mul (local.get $wv)
            (f32x4.add (f32x4.mul (local.get $oneMinusY) (local.get $softplusX)) (f32x4.mul (local.get $pwY) (local.get $softplusNegX)))))
        (local.set $sum
          (f64x2.add
            (f64x2.add (local.get $sum) (f64x2.promote_low_f32x4 (local.get $loss)))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $loss) (local.get $loss)))))
        (if (local.get $losses) (then (v128.store (i32.add (local.get $losses) (local.get $at)) (local.get $loss))))
        (if (local.get $inputGradient)
          (then
            ;; σ(-|x|) = e/(1+e); σ(x) and σ(-x) are it or 1 minus it, by the sign of x
            (local.set $sigmoid (f32x4.div (local.get $e) (f32x4.add (local.get $e) (v128.const f32x4 1 1 1 1))))
            (local.set $positive (f32x4.ge (local.get $xv) (v128.const f32x4 0 0 0 0)))
            (local.set $sigmoidX (v128.bitselect (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $sigmoid)) (local.get $sigmoid) (local.get $positive)))
            (local.set $sigmoidNegX (v128.bitselect (local.get $sigmoid) (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $sigmoid)) (local.get $positive)))
            (v128.store (i32.add (local.get $inputGradient) (local.get $at))
              (f32x4.mul (f32x4.mul (local.get $wv) (local.get $scaleSplat))
                (f32x4.sub (f32x4.mul (local.get $oneMinusY) (local.get $sigmoidX)) (f32x4.mul (local.get $pwY) (local.get $sigmoidNegX)))))
            (v128.store (i32.add (local.get $targetGradient) (local.get $at))
              (f32x4.mul (f32x4.mul (local.get $wv) (local.get $scaleSplat))
                (f32x4.sub (f32x4.mul (local.get $pwv) (local.get $softplusNegX)) (local.get $softplusX))))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vector)))
    (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
)
