"""Per-sample DropConnect on the CPU: mask bits drawn in bulk, products masked in SIMD.

A fresh mask per sample means per (sample, weight) work that no GEMM can do:
the forward pass a[b, o] = Σ_i M[b, o, i] W[o, i] x[b, i] and the gradient
∂W[o, i] = Σ_b δ[b, o] M[b, o, i] x[b, i]. The masks are packed bits, one bit
per (sample, weight): bit t of word j of row (b, o) keeps W[o, 64 j + t] for
sample b. Both kernels read them 16 at a time as a 16-lane vector mask (a
16-bit chunk is the mask of 16 neighbouring weights) and multiply-add under it,
so the float mask never exists. The vector code is written as LLVM IR
(``masked_dot``, ``masked_axpy``) and compiled by Numba for the machine it
runs on: a masked FMA on AVX-512, a blend on AVX2 (``kernel_name`` says which).

The bits themselves come from a counter-based generator (``draw_masks``):
every 32-bit lane of a random word is a hash of its counter (lowbias32,
C. Wellons), the counter saying which call, row, bit-plane and lane it is.
So any row is drawn by any thread in any order with the same result, and the
NumPy fallback (``draw_masks_numpy``, no Numba) draws bit for bit the same
masks. A Bernoulli(p) bit is the comparison u < p of a uniform u read one
binary digit at a time across 512 lanes at once (bit-sliced, ``draw_group``),
p rounded to 12 binary digits: as many random bits per weight as p has binary
digits (p = 0.5 one, 0.75 two, 0.9 eleven). Every DropConnect path scales by
that realized p (``realized_keep_prob``), so inverted DropConnect stays unbiased.

Each output element is written by one thread in a fixed order, so results do
not depend on the thread count.
"""

from __future__ import annotations

import numpy as np

try:
    import numba
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic
except ImportError:  # the ae extra installs it; without it the engine uses torch
    numba = None

#: Weights per vector mask: one 16-bit chunk of a row's mask bits.
LANES = 16
#: Independent accumulators in ``masked_dot`` (hides the add's latency), and
#: samples one pass of ``masked_dot_samples`` and ``masked_axpy_samples``
#: handles (one load of the weight row, or of the gradient row, serves four).
UNROLL = 4
#: Binary digits of a keep probability: p is realized to within 2⁻¹³. Each
#: digit past p's last 1 costs a random bit per weight (sixteen made keep_prob
#: 0.9's masks cost more than the masked products); 2⁻¹³ is far below any
#: keep_prob difference a model selection can resolve.
DIGITS = 12
#: Random 32-bit lanes one bit-plane of a group takes: 8 mask words.
HASH_LANES = 16
#: Rows a thread draws with one set of scratch buffers.
DRAW_CHUNK = 256

_MIX1, _MIX2 = 0x7FEB352D, 0x846CA68B  # lowbias32's multipliers


def available() -> bool:
    return numba is not None


def words_per_row(n_in: int) -> int:
    """uint64 words of mask bits per row."""
    return -(-n_in // 64)


def _drawn_per_plane(words: int) -> int:
    """Random words one bit-plane of a row draws: whole hashing steps of 8 (the
    last few unused), so a row's counters do not depend on how it is drawn."""
    return -(-words // 8) * 8


def plan_bits(keep_prob: float) -> tuple[int, int]:
    """(p's ``DIGITS`` binary digits as an integer, how many of them matter)."""
    digits = round(keep_prob * 2**DIGITS)
    if digits in (0, 2**DIGITS):
        return digits, 0
    return digits, DIGITS - ((digits & -digits).bit_length() - 1)


def realized_keep_prob(keep_prob: float) -> float:
    """The keep probability the masks have: ``keep_prob`` rounded to ``DIGITS``
    binary digits (all mask generators, CUDA's too)."""
    return round(keep_prob * 2**DIGITS) / 2**DIGITS


def kernel_name() -> str:
    """Which kernel the masked products compile to: Numba compiles for the host,
    or for ``NUMBA_CPU_NAME`` with the features ``NUMBA_CPU_FEATURES`` lists (the
    host's where it lists none). That is how the AVX2 kernel runs on an AVX-512
    machine: ``NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES=+avx,+avx2,+fma``."""
    if numba is None:
        return "torch (no Numba)"
    import llvmlite.binding as llvm

    target, listed = numba.config.CPU_NAME, numba.config.CPU_FEATURES
    if listed is None:
        features = {name for name, on in llvm.get_host_cpu_features().items() if on}
    else:
        features = {flag[1:] for flag in listed.split(",") if flag.startswith("+")}
    simd = "AVX-512" if "avx512f" in features else "AVX2" if "avx2" in features else "SSE"
    if (target is None or target == "host") and listed is None:
        return f"numba {LANES}-lane masked ({simd}, {llvm.get_host_cpu_name()})"
    return (f"numba {LANES}-lane masked ({simd}, {target or 'host'}, as NUMBA_CPU_NAME and "
            "NUMBA_CPU_FEATURES set)")


# --- the same masks without Numba -------------------------------------------------


def _lowbias32(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(_MIX1)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(_MIX2)
    return x ^ (x >> np.uint32(16))


def draw_masks_numpy(key: int, rows: int, n_in: int, keep_prob: float) -> np.ndarray:
    """``draw_masks`` in NumPy: the same bits, slower (for machines without Numba)."""
    words = words_per_row(n_in)
    digits, depth = plan_bits(keep_prob)
    if depth == 0:
        return np.full((rows, words), np.uint64(0 if digits == 0 else 2**64 - 1))
    drawn = _drawn_per_plane(words)
    lanes = np.arange(2 * words, dtype=np.uint32)
    row_base = (np.arange(rows, dtype=np.uint64) * np.uint64(DIGITS * 2 * drawn))
    less = np.zeros((rows, words), np.uint64)
    equal = np.full((rows, words), np.uint64(2**64 - 1))
    with np.errstate(over="ignore"):
        for i in range(depth):
            counters = ((row_base[:, None] + np.uint64(i * 2 * drawn)).astype(np.uint32)
                        + lanes[None, :] + np.uint32(key))
            plane = _lowbias32(counters).view(np.uint64)  # little-endian lane pairs
            if (digits >> (DIGITS - 1 - i)) & 1:  # p's digit 1: u's digit 0 wins
                less |= equal & ~plane
                equal &= plane
            else:
                equal &= ~plane
    return less


if numba is not None:
    def _vector(context, builder, array_type, value, element):
        array = context.make_array(array_type)(context, builder, value)
        return builder.bitcast(array.data, element.as_pointer())

    def _splat(builder, vector_type, value):
        lane0 = ir.Constant(ir.IntType(32), 0)
        vector = builder.insert_element(ir.Constant(vector_type, ir.Undefined), value, lane0)
        zeros = ir.Constant(ir.VectorType(ir.IntType(32), vector_type.count),
                            [0] * vector_type.count)
        return builder.shuffle_vector(vector, vector, zeros)

    def _fma(builder, vector_type):
        name = f"llvm.fma.v{vector_type.count}f32"
        function = builder.module.globals.get(name)
        if function is None:
            function = ir.Function(builder.module, ir.FunctionType(
                vector_type, [vector_type] * 3), name=name)
        return function

    def _loop(builder, count, body, carried=()):
        """``for k in range(count)`` around ``body(k, *values) -> values``, the
        ``carried`` initial values threaded through; returns their final values."""
        entry = builder.block
        loop = builder.append_basic_block("loop")
        done = builder.append_basic_block("done")
        zero = ir.Constant(count.type, 0)
        builder.cbranch(builder.icmp_unsigned(">", count, zero), loop, done)
        builder.position_at_end(loop)
        k = builder.phi(count.type)
        k.add_incoming(zero, entry)
        phis = []
        for value in carried:
            phi = builder.phi(value.type)
            phi.add_incoming(value, entry)
            phis.append(phi)
        updated = body(k, *phis)
        k_next = builder.add(k, ir.Constant(count.type, 1))
        k.add_incoming(k_next, builder.block)
        for phi, value in zip(phis, updated, strict=True):
            phi.add_incoming(value, builder.block)
        end = builder.block
        builder.cbranch(builder.icmp_unsigned("<", k_next, count), loop, done)
        builder.position_at_end(done)
        finals = []
        for value, new in zip(carried, updated, strict=True):
            phi = builder.phi(value.type)
            phi.add_incoming(value, entry)
            phi.add_incoming(new, end)
            finals.append(phi)
        return finals

    @intrinsic
    def masked_dot(typingctx, w, x, bits, n):  # pragma: no cover - compiled
        """Σ_i M_i w[i] x[i] over the first ⌊n/16⌋·16 elements, M from ``bits``
        (uint16: chunk k masks elements 16k..16k+15)."""
        def codegen(context, builder, signature, args):
            f32, i16 = ir.FloatType(), ir.IntType(16)
            vec = ir.VectorType(f32, LANES)
            masks = ir.VectorType(ir.IntType(1), LANES)
            wp = _vector(context, builder, signature.args[0], args[0], vec)
            xp = _vector(context, builder, signature.args[1], args[1], vec)
            bp = _vector(context, builder, signature.args[2], args[2], i16)
            n_val = args[3]
            ity = n_val.type
            zero = ir.Constant(vec, [0.0] * LANES)
            fma = _fma(builder, vec)

            def block(j, acc):
                w_j = builder.load(builder.gep(wp, [j]), align=4)
                x_j = builder.load(builder.gep(xp, [j]), align=4)
                mask = builder.bitcast(builder.load(builder.gep(bp, [j]), align=2), masks)
                return builder.select(mask, builder.call(fma, [w_j, x_j, acc]), acc)

            blocks = builder.udiv(n_val, ir.Constant(ity, LANES))
            groups = builder.udiv(blocks, ir.Constant(ity, UNROLL))

            def group(g, *accs):
                first = builder.mul(g, ir.Constant(ity, UNROLL))
                return [block(builder.add(first, ir.Constant(ity, u)), acc)
                        for u, acc in enumerate(accs)]

            accs = _loop(builder, groups, group, [zero] * UNROLL)
            acc = builder.fadd(builder.fadd(accs[0], accs[1], flags=["fast"]),
                               builder.fadd(accs[2], accs[3], flags=["fast"]),
                               flags=["fast"])
            done = builder.mul(groups, ir.Constant(ity, UNROLL))
            rest = builder.sub(blocks, done)
            [acc] = _loop(builder, rest, lambda k, a: [block(builder.add(done, k), a)],
                          [acc])
            return _hsum(builder, acc)

        return types.float32(w, x, bits, types.intp), codegen

    def _hsum(builder, acc):
        """The sum of a vector's lanes, as a tree of sums (not a chain)."""
        width = acc.type.count
        while width > 1:
            half = width // 2
            order = ir.VectorType(ir.IntType(32), half)
            low = builder.shuffle_vector(acc, acc, ir.Constant(order, list(range(half))))
            high = builder.shuffle_vector(acc, acc, ir.Constant(order, list(range(half, width))))
            acc = builder.fadd(low, high, flags=["fast"])
            width = half
        return builder.extract_element(acc, ir.Constant(ir.IntType(32), 0))

    def _sample_rows(context, builder, signature, args, b0, o):
        """For samples b0 .. b0 + UNROLL − 1: (pointer to x[b] as vectors,
        pointer to bits[b, o] as 16-bit chunks, the flat index b·n_out + o)."""
        f32, i16 = ir.FloatType(), ir.IntType(16)
        vec = ir.VectorType(f32, LANES)
        x_arr = context.make_array(signature.args[1])(context, builder, args[1])
        b_arr = context.make_array(signature.args[2])(context, builder, args[2])
        n_in = builder.extract_value(x_arr.shape, 1)
        n_out = builder.extract_value(b_arr.shape, 1)
        chunks = builder.extract_value(b_arr.shape, 2)
        xp = builder.bitcast(x_arr.data, f32.as_pointer())
        bp = builder.bitcast(b_arr.data, i16.as_pointer())
        rows = []
        for k in range(UNROLL):
            b = builder.add(b0, ir.Constant(b0.type, k))
            flat = builder.add(builder.mul(b, n_out), o)
            rows.append((builder.bitcast(builder.gep(xp, [builder.mul(b, n_in)]),
                                         vec.as_pointer()),
                         builder.gep(bp, [builder.mul(flat, chunks)]), flat))
        return rows

    @intrinsic
    def masked_dot_samples(typingctx, w, x, bits, b0, o, n):  # pragma: no cover
        """``masked_dot`` of weight row ``w`` (row o) with x[b] for UNROLL samples
        b0 ≤ b < b0 + UNROLL at once: each load of w serves them all; ``x``
        (n, n_in) and ``bits`` (n, n_out, chunks) C-contiguous."""
        def codegen(context, builder, signature, args):
            vec = ir.VectorType(ir.FloatType(), LANES)
            masks = ir.VectorType(ir.IntType(1), LANES)
            wp = _vector(context, builder, signature.args[0], args[0], vec)
            rows = _sample_rows(context, builder, signature, args, args[3], args[4])
            n_val = args[5]
            fma = _fma(builder, vec)

            def block(j, *accs):
                w_j = builder.load(builder.gep(wp, [j]), align=4)
                updated = []
                for (x_row, bit_row, _), acc in zip(rows, accs, strict=True):
                    x_j = builder.load(builder.gep(x_row, [j]), align=4)
                    mask = builder.bitcast(builder.load(builder.gep(bit_row, [j]), align=2),
                                           masks)
                    updated.append(builder.select(mask, builder.call(fma, [w_j, x_j, acc]),
                                                  acc))
                return updated

            zero = ir.Constant(vec, [0.0] * LANES)
            accs = _loop(builder, builder.udiv(n_val, ir.Constant(n_val.type, LANES)), block,
                         [zero] * UNROLL)
            return context.make_tuple(builder, signature.return_type,
                                      [_hsum(builder, acc) for acc in accs])

        return (types.UniTuple(types.float32, UNROLL)(w, x, bits, types.intp, types.intp,
                                                      types.intp), codegen)

    @intrinsic
    def masked_axpy(typingctx, g, x, bits, d, n):  # pragma: no cover - compiled
        """g[i] += M_i d x[i] over the first ⌊n/16⌋·16 elements (M as above)."""
        def codegen(context, builder, signature, args):
            f32, i16 = ir.FloatType(), ir.IntType(16)
            vec = ir.VectorType(f32, LANES)
            masks = ir.VectorType(ir.IntType(1), LANES)
            gp = _vector(context, builder, signature.args[0], args[0], vec)
            xp = _vector(context, builder, signature.args[1], args[1], vec)
            bp = _vector(context, builder, signature.args[2], args[2], i16)
            d_vec = _splat(builder, vec, args[3])
            n_val = args[4]
            zero = ir.Constant(vec, [0.0] * LANES)
            fma = _fma(builder, vec)

            def block(j):
                g_ptr = builder.gep(gp, [j])
                x_j = builder.load(builder.gep(xp, [j]), align=4)
                mask = builder.bitcast(builder.load(builder.gep(bp, [j]), align=2), masks)
                # Mask d, not the sum: a blend of a broadcast lowers well without
                # AVX-512's mask registers too.
                d_j = builder.select(mask, d_vec, zero)
                builder.store(builder.call(fma, [d_j, x_j, builder.load(g_ptr, align=4)]),
                              g_ptr, align=4)
                return []

            _loop(builder, builder.udiv(n_val, ir.Constant(n_val.type, LANES)), block)
            return context.get_dummy_value()

        return types.void(g, x, bits, types.float32, types.intp), codegen

    @intrinsic
    def masked_axpy_samples(typingctx, g, x, bits, delta, o, b0, n):  # pragma: no cover
        """g[i] += Σ_b M[b, o, i] δ[b, o] x[b, i] for b0 ≤ b < b0 + UNROLL, over the
        first ⌊n/16⌋·16 elements; ``x`` (n, n_in), ``bits`` (n, n_out, chunks) and
        ``delta`` (n, n_out) C-contiguous. The samples are added in order, as
        ``masked_axpy`` one after another would."""
        def codegen(context, builder, signature, args):
            f32 = ir.FloatType()
            vec = ir.VectorType(f32, LANES)
            masks = ir.VectorType(ir.IntType(1), LANES)
            gp = _vector(context, builder, signature.args[0], args[0], vec)
            d_arr = context.make_array(signature.args[3])(context, builder, args[3])
            dp = builder.bitcast(d_arr.data, f32.as_pointer())
            rows = [(x_row, bit_row, _splat(builder, vec, builder.load(builder.gep(dp, [flat]))))
                    for x_row, bit_row, flat in _sample_rows(context, builder, signature, args,
                                                             args[5], args[4])]
            n_val = args[6]
            zero = ir.Constant(vec, [0.0] * LANES)
            fma = _fma(builder, vec)

            def block(j):
                g_ptr = builder.gep(gp, [j])
                acc = builder.load(g_ptr, align=4)
                for x_row, bit_row, d_vec in rows:
                    x_j = builder.load(builder.gep(x_row, [j]), align=4)
                    mask = builder.bitcast(builder.load(builder.gep(bit_row, [j]), align=2),
                                           masks)
                    acc = builder.call(fma, [builder.select(mask, d_vec, zero), x_j, acc])
                builder.store(acc, g_ptr, align=4)
                return []

            _loop(builder, builder.udiv(n_val, ir.Constant(n_val.type, LANES)), block)
            return context.get_dummy_value()

        return (types.void(g, x, bits, delta, types.intp, types.intp, types.intp),
                codegen)

    @intrinsic
    def draw_group(typingctx, out, key, start, stride, digits, depth):  # pragma: no cover
        """Eight mask words (512 lanes) into ``out[0:8]``: bit-plane i of them is
        lowbias32(key + start + i·stride + lane) for the 16 32-bit lanes; u < p
        read one binary digit (plane) at a time, ``depth`` of them."""
        def codegen(context, builder, signature, args):
            i32, i64 = ir.IntType(32), ir.IntType(64)
            v32, v64 = ir.VectorType(i32, HASH_LANES), ir.VectorType(i64, HASH_LANES // 2)
            op = _vector(context, builder, signature.args[0], args[0], v64)
            key, start, stride, digits, depth = args[1:6]
            lanes = ir.Constant(v32, list(range(HASH_LANES)))
            base = builder.add(_splat(builder, v32, builder.add(key, start)), lanes)

            def const(value):
                return ir.Constant(v32, [value] * HASH_LANES)

            ones = ir.Constant(v64, [2**64 - 1] * (HASH_LANES // 2))
            nothing = ir.Constant(v64, [0] * (HASH_LANES // 2))
            entry = builder.block
            plane_block = builder.append_basic_block("plane")
            done = builder.append_basic_block("done")
            builder.cbranch(builder.icmp_signed(">", depth, ir.Constant(depth.type, 0)),
                            plane_block, done)
            builder.position_at_end(plane_block)
            i = builder.phi(depth.type)
            less, equal = builder.phi(v64), builder.phi(v64)
            i.add_incoming(ir.Constant(depth.type, 0), entry)
            less.add_incoming(nothing, entry)
            equal.add_incoming(ones, entry)
            offset = builder.mul(builder.trunc(i, i32), stride)
            x = builder.add(base, _splat(builder, v32, offset))
            x = builder.xor(x, builder.lshr(x, const(16)))
            x = builder.mul(x, const(_MIX1))
            x = builder.xor(x, builder.lshr(x, const(15)))
            x = builder.mul(x, const(_MIX2))
            x = builder.xor(x, builder.lshr(x, const(16)))
            plane = builder.bitcast(x, v64)  # lanes 2m, 2m + 1: word m's low, high half
            shift = builder.sub(ir.Constant(depth.type, DIGITS - 1), i)
            digit = builder.trunc(builder.and_(builder.ashr(digits, shift),
                                               ir.Constant(digits.type, 1)), ir.IntType(1))
            # p's digit 1: u's digit 0 decides u < p; digit 0: u's digit 1 decides u > p.
            decided_less = builder.and_(equal, builder.xor(plane, ones))
            less_next = builder.select(digit, builder.or_(less, decided_less), less)
            equal_next = builder.and_(equal, builder.select(digit, plane,
                                                            builder.xor(plane, ones)))
            i_next = builder.add(i, ir.Constant(depth.type, 1))
            i.add_incoming(i_next, plane_block)
            less.add_incoming(less_next, plane_block)
            equal.add_incoming(equal_next, plane_block)
            # Every digit of p, with no early exit: stopping once all 512 lanes
            # are decided (after about ten planes at p = 0.9) mispredicts a
            # branch per group, which cost more than the planes it saved.
            more = builder.icmp_signed("<", i_next, depth)
            builder.cbranch(more, plane_block, done)
            builder.position_at_end(done)
            result = builder.phi(v64)
            result.add_incoming(nothing, entry)
            result.add_incoming(less_next, plane_block)
            builder.store(result, op, align=8)
            return context.get_dummy_value()

        return (types.void(out, types.uint32, types.uint32, types.uint32, types.intp,
                           types.intp), codegen)

    def _compile(kernel):
        # Vector lanes reassociate; NaN and inf keep their meaning.
        options = {"parallel": True, "fastmath": {"reassoc", "contract"}}
        try:
            return numba.njit(cache=True, **options)(kernel)
        except RuntimeError:  # no writable cache folder: compile in each process
            return numba.njit(**options)(kernel)

    @_compile
    def _draw(key, digits, depth, out):  # pragma: no cover - compiled
        rows, words = out.shape
        drawn = -(-words // 8) * 8  # _drawn_per_plane
        stride = np.uint32(2 * drawn)
        for chunk in numba.prange((rows + DRAW_CHUNK - 1) // DRAW_CHUNK):
            group = np.empty(8, np.uint64)
            for r in range(chunk * DRAW_CHUNK, min(rows, (chunk + 1) * DRAW_CHUNK)):
                row_base = np.uint64(r) * np.uint64(DIGITS * 2 * drawn)
                for g in range(drawn // 8):
                    start = np.uint32((row_base + np.uint64(16 * g)) & np.uint64(0xFFFFFFFF))
                    draw_group(group, np.uint32(key), start, stride, digits, depth)
                    for m in range(min(8, words - 8 * g)):
                        out[r, 8 * g + m] = group[m]

    @numba.njit(inline="always")
    def _bit(chunks, i):  # pragma: no cover - compiled
        return np.float32((np.uint32(chunks[i >> 4]) >> np.uint32(i & 15)) & np.uint32(1))

    @_compile
    def _preact(W, x, bits, out):  # pragma: no cover - compiled
        n, n_in = x.shape
        n_out = W.shape[0]
        full = n_in // LANES * LANES
        groups = n // UNROLL
        for group in numba.prange(groups + n % UNROLL):
            if group < groups:  # UNROLL samples share each load of a weight row
                b0 = group * UNROLL
                for o in range(n_out):
                    sums = masked_dot_samples(W[o], x, bits, b0, o, n_in)
                    for k in range(UNROLL):
                        out[b0 + k, o] = sums[k]
            else:
                b = groups * UNROLL + group - groups
                for o in range(n_out):
                    out[b, o] = masked_dot(W[o], x[b], bits[b, o], n_in)
        if full < n_in:
            for b in numba.prange(n):
                for o in range(n_out):
                    w, xb, chunks = W[o], x[b], bits[b, o]
                    for i in range(full, n_in):
                        out[b, o] += w[i] * xb[i] * _bit(chunks, i)

    @_compile
    def _weight_grad(delta, x, bits, grad):  # pragma: no cover - compiled
        n, n_out = delta.shape
        n_in = x.shape[1]
        full = n_in // LANES * LANES
        for o in numba.prange(n_out):
            g = grad[o]
            grouped = n // UNROLL * UNROLL
            for b in range(0, grouped, UNROLL):
                masked_axpy_samples(g, x, bits, delta, o, b, n_in)
            for b in range(grouped, n):
                masked_axpy(g, x[b], bits[b, o], delta[b, o], n_in)
            for b in range(n):
                d, xb, chunks = delta[b, o], x[b], bits[b, o]
                for i in range(full, n_in):
                    g[i] += d * xb[i] * _bit(chunks, i)


def _use_threads(n_threads: int) -> None:
    numba.set_num_threads(max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS)))


def draw_masks(key: int, rows: int, n_in: int, keep_prob: float,
               n_threads: int = 1) -> np.ndarray:
    """Bernoulli(``keep_prob``) bits for ``rows`` rows of ``n_in`` weights, packed
    (uint64, ``words_per_row(n_in)`` per row), from the 32-bit ``key``: the
    same for any thread count, and equal to ``draw_masks_numpy``'s."""
    digits, depth = plan_bits(keep_prob)
    words = words_per_row(n_in)
    if depth == 0:
        return np.full((rows, words), np.uint64(0 if digits == 0 else 2**64 - 1))
    _use_threads(n_threads)
    out = np.empty((rows, words), np.uint64)
    _draw(np.uint32(key), digits, depth, out)
    return out


def masked_preact(W: np.ndarray, x: np.ndarray, bits: np.ndarray, out: np.ndarray,
                  n_threads: int) -> np.ndarray:
    """out[b, o] = Σ_i M[b, o, i] W[o, i] x[b, i] (float32, no 1/p scaling);
    ``bits`` is (n, n_out, words) uint64."""
    _use_threads(n_threads)
    _preact(W, np.ascontiguousarray(x), bits.view(np.uint16), out)
    return out


def masked_weight_grad(delta: np.ndarray, x: np.ndarray, bits: np.ndarray,
                       grad: np.ndarray, n_threads: int) -> np.ndarray:
    """grad[o, i] += Σ_b δ[b, o] M[b, o, i] x[b, i] (float32, no 1/p scaling)."""
    _use_threads(n_threads)
    _weight_grad(np.ascontiguousarray(delta), np.ascontiguousarray(x),
                 bits.view(np.uint16), grad)
    return grad
