//! A tiny byte reader turning fuzz input into sizes, hostile scalars,
//! matrices and workspaces. Reading past the end yields zero bytes, so
//! every input decodes to something.

/// Scalars that stress the routines: NaN, infinities, extremes of
/// magnitude, subnormals, signed zeros.
const SPECIALS: [f64; 16] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MAX,
    -f64::MAX,
    f64::MIN_POSITIVE,
    f64::MIN_POSITIVE / 1024.0, // subnormal
    5e-324,                     // smallest subnormal
    1e300,
    -1e300,
    1e-300,
    1e154,
    1e-154,
    -0.0,
    0.0,
    f64::EPSILON,
];

/// Cursor over the fuzz bytes.
pub struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    /// Starts at the first byte.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// The next byte, 0 past the end.
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// `true` when the next byte is below `256 / 2^k` (`k <= 8`): rare for
    /// large `k`, and false past the end of the input.
    pub fn rare(&mut self, k: u32) -> bool {
        u32::from(self.u8()) < (256 >> k)
    }

    /// A choice among `n` alternatives (`n >= 1`).
    pub fn choose(&mut self, n: usize) -> usize {
        usize::from(self.u8()) % n.max(1)
    }

    /// A size: usually in `0..=small`, rarely in `large - 15..=large` (to
    /// reach blocked code paths).
    pub fn size(&mut self, small: usize, large: usize) -> usize {
        let b = usize::from(self.u8());
        if b < 240 {
            b % (small + 1)
        } else {
            large.saturating_sub(b - 240)
        }
    }

    /// A length that is usually `n`, sometimes one off or zero (mismatched
    /// lengths).
    pub fn len(&mut self, n: usize) -> usize {
        match self.u8() {
            0..=243 => n,
            244..=247 => n + 1,
            248..=251 => n.saturating_sub(1),
            _ => 0,
        }
    }

    /// A workspace for a routine that needs `needed` scalars: usually
    /// exactly that (filled with garbage: the routine must not read it),
    /// sometimes longer, rarely shorter or empty.
    pub fn workspace(&mut self, needed: usize) -> Vec<f64> {
        let needed = needed.min(1 << 22);
        let len = match self.u8() {
            0..=231 => needed,
            232..=239 => needed + 3,
            240..=247 => needed.saturating_sub(1),
            248..=251 => needed / 2,
            _ => 0,
        };
        vec![f64::NAN; len]
    }

    /// A scalar: mostly a small multiple of 1/16 in `[-8, 8)`, sometimes
    /// arbitrary bits (any `f64`, NaN payloads included), sometimes one of
    /// [`SPECIALS`].
    pub fn value(&mut self) -> f64 {
        match self.u8() {
            0..=199 => f64::from(self.u8() as i8) / 16.0,
            200..=223 => {
                let mut b = [0u8; 8];
                b.iter_mut().for_each(|x| *x = self.u8());
                f64::from_le_bytes(b)
            }
            t => SPECIALS[usize::from(t - 224) % SPECIALS.len()],
        }
    }

    /// A non-negative, usually moderate scalar (a shift, a variance, a
    /// ridge): `|value|`, or rarely a hostile one as is.
    pub fn positive(&mut self) -> f64 {
        let v = self.value();
        if self.rare(4) { v } else { v.abs() }
    }

    /// A power-of-two scale: 1 most of the time, otherwise between about
    /// `2^-1000` and `2^1000` (overflow and underflow of products).
    pub fn scale(&mut self) -> f64 {
        let e = i32::from(self.u8() as i8);
        if e.abs() < 96 {
            1.0
        } else {
            2f64.powi((e - 95 * e.signum()) * 31)
        }
    }

    /// `len` scalars.
    pub fn values(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.value()).collect()
    }

    /// A vector of [`len`](Self::len)`(n)` scalars.
    pub fn vector(&mut self, n: usize) -> Vec<f64> {
        let len = self.len(n);
        self.values(len)
    }

    /// A symmetric `n x n` row-major matrix (both triangles equal), built in
    /// one of several ways so that positive-definite, semidefinite,
    /// indefinite and hostile inputs all occur, then scaled by
    /// [`scale`](Self::scale).
    pub fn symmetric(&mut self, n: usize) -> Vec<f64> {
        let mut a = vec![0.0; n * n];
        match self.choose(4) {
            0 => {
                for i in 0..n {
                    for j in 0..=i {
                        a[i * n + j] = self.value();
                    }
                }
            }
            1 => {
                let k = self.size(n + 1, n + 1);
                let b = self.values(n * k);
                let shift = self.positive();
                for i in 0..n {
                    for j in 0..=i {
                        let dot: f64 = (0..k).map(|c| b[i * k + c] * b[j * k + c]).sum();
                        a[i * n + j] = dot + if i == j { shift } else { 0.0 };
                    }
                }
            }
            2 => {
                for i in 0..n {
                    for j in 0..i {
                        a[i * n + j] = self.value();
                    }
                }
                let extra = self.positive();
                for i in 0..n {
                    let row: f64 = (0..n).map(|j| a[i.max(j) * n + i.min(j)].abs()).sum();
                    a[i * n + i] = row + extra;
                }
            }
            _ => {
                let x = self.values(n);
                let width = self.positive();
                let nugget = self.positive() / 64.0;
                for i in 0..n {
                    for j in 0..=i {
                        let d = x[i] - x[j];
                        a[i * n + j] = (-d * d / width).exp() + if i == j { nugget } else { 0.0 };
                    }
                }
            }
        }
        let s = self.scale();
        for i in 0..n {
            for j in 0..=i {
                a[i * n + j] *= s;
                a[j * n + i] = a[i * n + j];
            }
        }
        a
    }
}
