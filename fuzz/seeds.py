#!/usr/bin/env python3
"""Writes the hand-crafted seed inputs `fuzz/corpus/<target>/seed-*`.

The encoder mirrors `fuzz/checks/reader.rs` byte for byte, so each seed
decodes to the case its name describes (an error variant or an `Ok` path).
Run from anywhere: `python3 fuzz/seeds.py`.
"""
import os, random, struct

HERE = os.path.dirname(os.path.abspath(__file__))
NAN, INF, NINF, MAX, NMAX, MINPOS, SUBN, TINY, E300, NE300, EM300, E154, EM154, NZERO, ZERO, EPS = range(16)


class Enc:
    """Byte builder mirroring `Bytes`."""

    def __init__(self):
        self.b = bytearray()

    def u8(self, *xs):
        self.b += bytes(x & 0xFF for x in xs)
        return self

    choose = u8

    def size(self, k):  # a small size (k < 240)
        return self.u8(k)

    def large(self, large, k):  # `large - k` through the rare branch
        return self.u8(240 + k)

    def len(self, kind="exact"):
        return self.u8({"exact": 0, "plus": 244, "minus": 248, "zero": 252}[kind])

    def ws(self, kind="exact"):
        return self.u8({"exact": 0, "long": 232, "short": 240, "half": 248, "empty": 252}[kind])

    def val(self, x):
        q = int(round(x * 16))
        assert -128 <= q < 128 and q / 16 == x, x
        return self.u8(0, q)

    def special(self, i):
        return self.u8(224 + i)

    def raw(self, x):
        self.u8(200)
        self.b += struct.pack("<d", x)
        return self

    def vals(self, xs):
        for x in xs:
            self.val(x)
        return self

    def pos(self, x):  # `positive()`: |value|, not the rare branch
        return self.val(x).u8(255)

    def scale(self, e=None):  # 1.0, or the byte `e` as i8 (|e| >= 96)
        return self.u8(0 if e is None else e)

    def rare(self, yes):
        return self.u8(0 if yes else 255)

    def dominant(self, n, rng, extra=1.0, scale=None):
        """`symmetric` mode 2: random strictly lower part, dominant diagonal."""
        self.choose(2).vals([rng.randint(-32, 31) / 16 for _ in range(n * (n - 1) // 2)])
        return self.pos(extra).scale(scale)

    def lowrank(self, n, k, rng, shift=0.0):
        """`symmetric` mode 1: `B B^T + shift I` with `B` `n x k`."""
        self.choose(1).size(k).vals([rng.randint(-32, 31) / 16 for _ in range(n * k)])
        return self.pos(shift).scale()

    def lower(self, rows):
        """`symmetric` mode 0: the given lower triangle, row by row."""
        self.choose(0)
        for i, row in enumerate(rows):
            for x in row[: i + 1]:
                self.special(x[1]) if isinstance(x, tuple) else self.val(x)
        return self.scale()

    def kernel(self, xs, width=1.0, nugget=0.0):
        """`symmetric` mode 3: Gaussian kernel on the points `xs`."""
        return self.choose(3).vals(xs).pos(width).pos(nugget * 64).scale()


S = lambda i: ("special", i)


def cholesky(rng):
    seeds = {}
    spd = lambda e, n=3: e.size(n).len().dominant(n, rng)
    # factor_and_use: op 0, input, ws, into (len, ws), use (choose) ...
    seeds["ok-solve"] = spd(Enc().choose(0)).ws().len().ws().choose(0).len().size(2).choose(0).vals([1, -2, 0.5, 3, 0, 1])
    seeds["ok-solve-lower"] = spd(Enc().choose(0)).ws().len().ws().choose(0).len().size(1).choose(1).vals([1, 2, 3])
    seeds["ok-solve-upper"] = spd(Enc().choose(0)).ws().len().ws().choose(0).len().size(1).choose(2).vals([1, 2, 3])
    seeds["err-solve-nonfinite"] = spd(Enc().choose(0)).ws().len().ws().choose(0).len().size(1).choose(0).val(1).special(NAN).val(1)
    seeds["err-solve-dims"] = spd(Enc().choose(0)).ws().len().ws().choose(0).len("plus").size(1).choose(0).vals([1, 2, 3, 4])
    seeds["err-solve-overflow"] = Enc().choose(0).size(2).len().lower([[1], [1, 1]]).ws().len().ws().choose(0).len().size(1).choose(0).special(MAX).special(NMAX)
    seeds["ok-inverse"] = spd(Enc().choose(0)).ws().len().ws().choose(1).len()
    seeds["err-inverse-dims"] = spd(Enc().choose(0)).ws().len().ws().choose(1).len("minus")
    seeds["ok-from-factor"] = spd(Enc().choose(0)).ws().len().ws().choose(2)
    seeds["ok-blocked-60"] = Enc().choose(0).large(64, 4).len().dominant(60, rng).ws().len().ws().choose(0).len().size(1).choose(0)
    seeds["ok-huge-scale"] = Enc().choose(0).size(4).len().dominant(4, rng, scale=127).ws().len().ws().choose(1).len()
    seeds["ok-tiny-scale"] = Enc().choose(0).size(4).len().dominant(4, rng, scale=0x80).ws().len().ws().choose(0).len().size(1).choose(0)
    seeds["err-not-pd"] = Enc().choose(0).size(3).len().lower([[1], [2, 1], [0, 0, 1]]).ws()
    seeds["err-not-pd-blocked"] = Enc().choose(0).large(64, 0).len().choose(0).vals([rng.randint(-32, 31) / 16 for _ in range(64 * 65 // 2)]).scale().ws()
    seeds["err-nonfinite"] = Enc().choose(0).size(2).len().lower([[1], [S(NAN), 1]]).ws()
    seeds["err-infinite-diag"] = Enc().choose(0).size(2).len().lower([[S(INF)], [0, 1]]).ws()
    seeds["err-workspace"] = spd(Enc().choose(0)).ws("short")
    seeds["err-not-square"] = Enc().choose(0).size(3).len("plus").vals([i / 2 for i in range(12)]).ws()
    seeds["ok-empty"] = Enc().choose(0).size(0).len().choose(0).scale().ws().len().ws().choose(0).len().size(1).choose(0)
    seeds["err-into-dims"] = spd(Enc().choose(0)).ws().len("plus").ws()
    # update_downdate: op 1, factored (size, symmetric), then 3 x (kind, x, ws)
    up = lambda e: e.u8(0)
    down = lambda e: e.u8(1)
    base = lambda: Enc().choose(1).size(3).dominant(3, rng, extra=2.0)
    e = base(); up(e).len().vals([1, 0.5, -1]).ws(); down(e).len().vals([1, 0.5, -1]).ws(); down(e).len().vals([7.5, 0, 0]).ws()
    seeds["update-downdate-failed"] = e
    e = base(); up(e).len().special(MAX).vals([0, 0]).ws(); up(e).len().special(NAN).vals([0, 0]).ws(); down(e).len("minus").vals([1, 1]).ws()
    seeds["update-overflow-nonfinite-dims"] = e
    e = base(); up(e).len().vals([1, 1, 1]).ws("short"); down(e).len().vals([1, 1, 1]).ws("half"); down(e).len().vals([0.5, 0, 0]).ws()
    seeds["update-workspace"] = e
    seeds["update-blocked"] = down(up(Enc().choose(1).large(64, 14).dominant(50, rng)).len().vals([0.5] * 50).ws()).len().vals([0.25] * 50).ws()
    # jitter: op 2, input, options (rare byte), ws
    seeds["jitter-rank-one"] = Enc().choose(2).size(3).len().lowrank(3, 1, rng).rare(False).ws()
    seeds["jitter-indefinite"] = Enc().choose(2).size(2).len().lower([[1], [3, 1]]).rare(False).ws()
    seeds["jitter-bad-options"] = Enc().choose(2).size(2).len().lowrank(2, 1, rng).rare(True).val(-1).val(7).val(1).ws()
    seeds["jitter-growth-one"] = Enc().choose(2).size(2).len().lowrank(2, 1, rng).rare(True).val(0.0625).val(1).val(1).ws()
    seeds["jitter-mean-negative"] = Enc().choose(2).size(2).len().lower([[-1], [0, -1]]).rare(False).ws()
    seeds["jitter-ok-pd"] = Enc().choose(2).size(4).len().dominant(4, rng).rare(False).ws()
    seeds["jitter-nonfinite"] = Enc().choose(2).size(2).len().lower([[S(NINF)], [0, 1]]).rare(False).ws()
    # pivoted: op 3, input, max_rank, tolerance (rare + value), perm len, G rows, ws, source
    piv = lambda n, k, m, src: Enc().choose(3).size(n).len().lowrank(n, k, rng).size(m).rare(False).pos(0).len().len().ws().u8(src)
    seeds["pivoted-rank2-view"] = piv(5, 2, 5, 0)
    seeds["pivoted-rank2-fn"] = piv(5, 2, 5, 1)
    seeds["pivoted-maxrank1"] = piv(4, 3, 1, 0)
    seeds["pivoted-bad-tol"] = Enc().choose(3).size(3).len().lowrank(3, 2, rng).size(3).rare(True).val(-1).len().len().ws().u8(0)
    seeds["pivoted-perm-dims"] = Enc().choose(3).size(3).len().lowrank(3, 2, rng).size(3).rare(False).pos(0).len("minus").len().ws().u8(0)
    seeds["pivoted-nonfinite"] = Enc().choose(3).size(2).len().lower([[1], [S(NAN), 1]]).size(2).rare(False).pos(0).len().len().ws().u8(1)
    seeds["pivoted-overflow"] = Enc().choose(3).size(2).len().lower([[S(MINPOS)], [S(MAX), 1]]).size(2).rare(False).pos(0).len().len().ws().u8(0)
    return seeds


def eigen(rng):
    seeds = {}
    # size, len, symmetric, (full) len values, len vector rows, ws, (values) ws
    seeds["ok-jacobi-4"] = Enc().size(4).len().dominant(4, rng).len().len().ws().ws()
    seeds["ok-fixed-3"] = Enc().size(3).len().choose(0).vals([rng.randint(-32, 31) / 16 for _ in range(6)]).scale().len().len().ws().ws()
    seeds["ok-tridiag-12"] = Enc().size(12).len().choose(0).vals([rng.randint(-32, 31) / 16 for _ in range(78)]).scale().len().len().ws().ws()
    seeds["ok-tridiag-40"] = Enc().large(40, 0).len().kernel([i / 8 for i in range(40)]).len().len().ws().ws()
    seeds["ok-huge"] = Enc().size(10).len().dominant(10, rng, scale=127).len().len().ws().ws()
    seeds["ok-tiny"] = Enc().size(10).len().dominant(10, rng, scale=0x80).len().len().ws().ws()
    seeds["err-values-dims"] = Enc().size(3).len().dominant(3, rng).len("plus").len().ws()
    seeds["err-vectors-dims"] = Enc().size(3).len().dominant(3, rng).len().len("minus").ws()
    seeds["err-workspace"] = Enc().size(10).len().dominant(10, rng).len().len().ws("short")
    seeds["err-workspace-values"] = Enc().size(10).len().dominant(10, rng).len().len().ws().ws("half")
    seeds["err-nonfinite"] = Enc().size(2).len().lower([[1], [S(INF), 1]]).len().len().ws()
    seeds["err-overflow"] = Enc().size(2).len().lower([[S(MAX)], [S(MAX), S(MAX)]]).len().len().ws()
    seeds["err-not-square"] = Enc().size(2).len("plus").vals([i / 2 for i in range(6)]).len().len().ws()
    seeds["ok-empty"] = Enc().size(0).len().choose(0).scale().len().len().ws().ws()
    return seeds


def kron(rng):
    seeds = {}

    def factors(e, shapes):
        e.size(len(shapes))
        for n, kind in shapes:
            e.size(n)
            if kind == "rect":
                e.len("plus").vals([rng.randint(-32, 31) / 16 for _ in range(n * (n + 1))])
            elif kind == "lowrank":
                e.len().lowrank(n, 1, rng)
            elif kind == "kernel":
                e.len().kernel([i / 2 for i in range(n)], nugget=0.0625)
            else:
                e.len().dominant(n, rng)
        return e

    def noisy(e, s2=0.5, ws="exact"):
        # apply x2 (x, y, ws), then storage, ws, s2 (rare(3) byte, positive)
        for _ in range(2):
            e.len().len().ws()
        return e.ws(ws).ws().rare(False).pos(s2)

    def tail(e):
        # noisy products x2, solve (b, ws), lml (y, ws)
        for _ in range(2):
            e.len().len().ws()
        return e.len().ws().len().ws()

    seeds["ok-2x3"] = tail(noisy(factors(Enc(), [(2, "dom"), (3, "kernel")])))
    seeds["ok-3x3x2"] = tail(noisy(factors(Enc(), [(3, "kernel"), (3, "dom"), (2, "kernel")]), s2=0.0625))
    seeds["ok-rect"] = factors(Enc(), [(2, "rect"), (3, "dom")]).len().len().ws().len().len().ws()
    seeds["err-no-factor"] = Enc().size(0)
    seeds["err-nine-factors"] = Enc().large(9, 0)
    seeds["err-nonfinite"] = Enc().size(1).size(2).len().lower([[1], [S(NAN), 1]])
    seeds["err-storage"] = noisy(factors(Enc(), [(2, "dom"), (2, "dom")]), ws="short")
    seeds["err-noise-negative"] = factors(Enc(), [(2, "dom")]).len().len().ws().len().len().ws().ws().ws().rare(True).val(-1)
    seeds["err-singular-noise-zero"] = factors(Enc(), [(2, "lowrank")]).len().len().ws().len().len().ws().ws().ws().rare(False).pos(0)
    e = factors(Enc(), [(2, "dom"), (2, "dom")])
    e = noisy(e)
    for _ in range(2):
        e.len().len().ws()
    seeds["err-solve-lml"] = e.len("plus").ws().len().ws("short")
    e = noisy(factors(Enc(), [(2, "dom"), (2, "kernel")]))
    for _ in range(2):
        e.len().len().ws()
    seeds["err-solve-nonfinite"] = e.len().ws()  # b values exhausted: zeros
    seeds["err-apply-dims"] = factors(Enc(), [(2, "dom"), (2, "dom")]).len("plus").len().ws().len().len("minus").ws()
    return seeds


def nystrom(rng):
    seeds = {}
    # n, symmetric, lambda (rare(3) byte, value), greedy byte, m, storage ws, ws, pivots len, landmarks, [greedy tol]
    def head(n, lam=0.125, greedy=0, m=3, storage="exact", ws="exact", piv="exact"):
        e = Enc().size(n).kernel([i / 4 for i in range(n)], nugget=0.0625)
        e.rare(False).pos(lam) if lam is not None else e.rare(True).val(-1)
        return e.u8(greedy).size(m).ws(storage).ws(ws).len(piv)

    def use(e):  # apply (x, y, ws), solve (b, ws)
        return e.len().len().ws().vals([1, -1, 0.5]).len().ws()

    seeds["ok-given"] = use(head(6).size(0).size(2).size(4))
    seeds["ok-given-all"] = use(head(4, m=4).size(0).size(1).size(2).size(3))
    seeds["ok-greedy"] = use(head(8, greedy=1, m=4).size(0).size(0).size(0).size(0).rare(False).pos(0))
    seeds["ok-greedy-tol"] = use(head(8, greedy=1, m=6).vals([]).size(0).size(0).size(0).size(0).size(0).size(0).rare(False).pos(1))
    seeds["err-lambda"] = head(4, lam=None).size(0).size(1).size(2)
    seeds["err-duplicate"] = head(4).size(1).size(1).size(2)
    seeds["err-landmark-range"] = head(4).size(4).size(1).size(2)
    seeds["err-no-landmark"] = head(4, m=0)
    seeds["err-storage"] = head(5, storage="short").size(0).size(1).size(2)
    seeds["err-workspace"] = head(5, ws="half").size(0).size(1).size(2)
    seeds["err-greedy-pivots"] = head(5, greedy=1, piv="minus").size(0).size(1).size(2).rare(False).pos(0)
    seeds["err-greedy-m"] = head(5, greedy=1, m=0).rare(False).pos(0)
    seeds["err-nonfinite-kernel"] = Enc().size(2).lower([[1], [S(NAN), 1]]).rare(False).pos(0.5).u8(0).size(1).ws().ws().len().size(0)
    seeds["err-not-psd"] = Enc().size(2).lower([[-1], [0, -1]]).rare(False).pos(0.5).u8(0).size(2).ws().ws().len().size(0).size(1)
    e = head(6).size(0).size(2).size(4)
    seeds["err-solve"] = e.len().len().ws().len("plus").ws()
    e = head(6).size(0).size(2).size(4)
    seeds["err-solve-nonfinite"] = e.len().len().ws().len().ws().special(NAN)
    return seeds


def fair(rng):
    seeds = {}
    # n, p, prot rows len, K, protected values, lambda (rare(3), value), iterations, mode, m, landmarks,
    # steps ws, ws, iws len, [out rows len unless in place], [with_out rare(3) unless in place]
    def case(n=6, p=1, mode=0, m=0, landmarks=(), iters=2, lam=0.0625, steps="exact", ws="exact", iws="exact",
             out="exact", with_out=True, prot_len="exact", kernel="kernel", prot=None):
        e = Enc().size(n).size(p).len(prot_len)
        if kernel == "kernel":
            e.kernel([i / 4 for i in range(n)], nugget=0.03125)
        elif kernel == "lowrank":
            e.lowrank(n, 2, rng)
        else:
            kernel(e)
        rows = n + (1 if prot_len == "plus" else 0)
        e.vals(prot if prot is not None else [rng.randint(-32, 31) / 16 for _ in range(rows * p)])
        e.rare(False).pos(lam) if lam is not None else e.rare(True).val(-1)
        e.size(iters).choose(mode).size(m)
        for s in landmarks:
            e.size(s)
        e.ws(steps).ws(ws).len(iws)
        if mode != 1:
            e.len(out).rare(not with_out)
        return e

    def tn(e, t=2, training=False, cols="exact"):
        """transform_new: t, cols, training indices, [choice], rows, diag, with_diag, ws."""
        e.size(t).len(cols)
        for i in range(t):
            e.size(i)
        if training:
            e.u8(0)
        elif cols == "exact":
            e.u8(1)
        return e

    seeds["exact-ok"] = tn(case(), training=True)
    seeds["exact-ok-p2"] = tn(case(p=2, iters=3))
    seeds["exact-lowrank"] = tn(case(kernel="lowrank", iters=1), training=True)
    seeds["exact-no-out"] = tn(case(with_out=False))
    seeds["in-place-ok"] = tn(case(mode=1), training=True)
    seeds["in-place-err-lambda"] = case(mode=1, lam=None)
    seeds["in-place-err-nonfinite"] = case(mode=1, kernel=lambda e: e.lower([[1], [S(NAN), 1], [0, 0, 1]]), n=3)
    seeds["in-place-err-workspace"] = case(mode=1, ws="short")
    seeds["nystrom-given"] = tn(case(mode=2, m=3, landmarks=(0, 2, 4)))
    seeds["nystrom-greedy"] = tn(case(mode=3, m=3))
    seeds["err-no-attribute"] = case(p=0)
    seeds["err-protected-rows"] = case(prot_len="plus")
    seeds["err-protected-nonfinite"] = Enc().size(2).size(1).len().kernel([0, 1]).special(NAN).val(1).rare(False).pos(0.5).size(1).choose(0).size(0).ws().ws().len().len().rare(False)
    seeds["err-steps"] = case(steps="short")
    seeds["err-iws"] = case(iws="minus")
    seeds["err-out-dims"] = case(out="plus")
    seeds["nystrom-err-duplicate"] = case(mode=2, m=2, landmarks=(1, 1))
    seeds["nystrom-err-workspace"] = case(mode=3, m=2, ws="half")
    seeds["transform-new-err-cols"] = tn(case(), cols="plus")
    e = tn(case())
    seeds["transform-new-err-nonfinite"] = e.special(NAN)
    seeds["ok-zero-iterations"] = tn(case(iters=0))
    return seeds


def main():
    for name, fn in [("cholesky", cholesky), ("eigen", eigen), ("kron", kron), ("nystrom", nystrom), ("fair", fair)]:
        rng = random.Random(name)
        d = os.path.join(HERE, "corpus", name)
        os.makedirs(d, exist_ok=True)
        for seed, enc in fn(rng).items():
            with open(os.path.join(d, "seed-" + seed), "wb") as f:
                f.write(bytes(enc.b))


if __name__ == "__main__":
    main()
