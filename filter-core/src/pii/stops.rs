//! Where the personal-data pass stops: the bytes that may start a number,
//! an email, a token form or an IPv6 address, found 32 bytes at a time.
//!
//! This is the one module of the crate with `unsafe` code, for a measured
//! win: on `corpus_pii.txt` (`cargo bench --bench pii -- corpus_pii`) the
//! whole scan took 4.14 ms with the portable block scan (a superset of
//! the stops marked by the compiler's 16-byte vectors, a multiply that
//! gathers the flags, each candidate checked again byte by byte) and
//! 3.6 ms with AVX2 marking exactly the stops. The vector code runs only
//! where the CPU has the instructions, detected at run time; everywhere
//! else the portable code runs, and a property test holds the three
//! equal to the byte-by-byte rule.

#![allow(unsafe_code)]

/// Bytes a block covers, and the bytes one block reads: the block and
/// the two bytes after it that a full-width form's last byte may need.
const BLOCK: usize = 32;
const WINDOW: usize = BLOCK + 2;

/// A block scanned: where it starts, and a bit for each stop in it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Block {
    start: usize,
    bits: u32,
}

impl Default for Block {
    /// No block: no position is in it.
    fn default() -> Block {
        Block {
            start: usize::MAX - BLOCK,
            bits: 0,
        }
    }
}

/// A range of byte values `lo..=lo + span`, marked only when `on`.
#[derive(Clone, Copy, Debug)]
struct ByteRange {
    lo: u8,
    span: u8,
    on: bool,
}

impl ByteRange {
    fn new(lo: u8, hi: u8, on: bool) -> ByteRange {
        ByteRange {
            lo,
            span: hi - lo,
            on,
        }
    }

    #[inline(always)]
    fn holds(self, b: u8) -> bool {
        self.on && b.wrapping_sub(self.lo) <= self.span
    }
}

/// The bytes the pass stops at: ASCII digits, `:`, `@` and capitals, and
/// the first byte of full-width digits (`EF BC 90`-`99`) and capitals
/// (`EF BC A1`-`BA`), each set as the enabled detectors need.
#[derive(Clone, Copy, Debug)]
pub(super) struct Stops {
    /// Digits and `:` (neighbours, 0x30-0x3A), `@` and capitals (0x40-0x5A):
    /// each part of a range on or off leaves a range.
    ascii: [ByteRange; 2],
    /// Full-width digits and capitals, by the third byte after `EF BC`.
    wide: [ByteRange; 2],
}

impl Stops {
    /// Stops at digits (numbers, tokens that start with one), `@`
    /// (emails), capitals (tokens that start with one) and `:` (IPv6
    /// addresses that start with a small letter or `::`).
    pub(super) fn new(digits: bool, at: bool, upper: bool, colon: bool) -> Stops {
        // Each pair of neighbours on or off leaves one range.
        let range = |lo: u8, hi: u8, on| ByteRange::new(lo, hi.max(lo), on);
        let digits_colon = range(
            if digits { b'0' } else { b':' },
            if colon { b':' } else { b'9' },
            digits || colon,
        );
        let at_upper = range(
            if at { b'@' } else { b'A' },
            if upper { b'Z' } else { b'@' },
            at || upper,
        );
        Stops {
            ascii: [digits_colon, at_upper],
            wide: [
                ByteRange::new(0x90, 0x99, digits),
                ByteRange::new(0xA1, 0xBA, upper),
            ],
        }
    }

    /// Whether the byte at `i` is a stop.
    #[inline(always)]
    pub(super) fn byte(self, bytes: &[u8], i: usize) -> bool {
        let b = bytes[i];
        if self.ascii.iter().any(|r| r.holds(b)) {
            return true;
        }
        b == 0xEF
            && bytes.get(i + 1) == Some(&0xBC)
            && bytes
                .get(i + 2)
                .is_some_and(|&c| self.wide.iter().any(|r| r.holds(c)))
    }

    /// The first position at or after `i` holding a stop. `block` keeps
    /// the mask of the block the last call ended in, so that the stops
    /// after it in the same block cost no scan (most stops have others a
    /// few bytes on: the groups of a number, the words of a sentence).
    #[inline(always)]
    pub(super) fn next(self, block: &mut Block, bytes: &[u8], i: usize) -> Option<usize> {
        if let Some(k) = i.checked_sub(block.start).filter(|&k| k < BLOCK) {
            let rest = block.bits & (u32::MAX << k);
            if rest != 0 {
                return Some(block.start + rest.trailing_zeros() as usize);
            }
        }
        let from = if i.wrapping_sub(block.start) < BLOCK {
            block.start + BLOCK
        } else {
            i
        };
        let found = {
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, checked just above.
                    unsafe { x86::first_avx2(self, bytes, from) }
                } else {
                    // SAFETY: SSE2 is part of every x86-64 CPU.
                    unsafe { x86::first_sse2(self, bytes, from) }
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            self.first_portable(bytes, from)
        };
        match found {
            Ok(b) => {
                *block = b;
                Some(b.start + b.bits.trailing_zeros() as usize)
            }
            Err(tail) => {
                *block = Block::default();
                (tail..bytes.len()).find(|&j| self.byte(bytes, j))
            }
        }
    }

    /// Bit `k` set when byte `k` of the block at the start of `w` is a
    /// stop. A plain loop over a fixed array, which the compiler turns
    /// into vector compares; a multiply gathers the 0/1 flags of eight
    /// bytes into one byte of the mask.
    #[inline(always)]
    fn block_portable(self, w: &[u8; WINDOW]) -> u32 {
        let mut flags = [0u8; BLOCK];
        for k in 0..BLOCK {
            let ascii = u8::from(self.ascii[0].holds(w[k])) | u8::from(self.ascii[1].holds(w[k]));
            let third =
                u8::from(self.wide[0].holds(w[k + 2])) | u8::from(self.wide[1].holds(w[k + 2]));
            let wide = u8::from(w[k] == 0xEF) & u8::from(w[k + 1] == 0xBC) & third;
            flags[k] = ascii | wide;
        }
        let mut bits = 0u32;
        for (n, chunk) in flags.chunks_exact(8).enumerate() {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            if word != 0 {
                bits |= ((word.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32) << (8 * n);
            }
        }
        bits
    }

    /// The first block at or after `from` holding a stop, of whole
    /// windows: `Ok` of it, or `Err` of where the blocks left off (less than a window before the
    /// end), for the caller to finish byte by byte.
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    fn first_portable(self, bytes: &[u8], mut from: usize) -> Result<Block, usize> {
        while let Some(w) = bytes.get(from..from + WINDOW) {
            let bits = self.block_portable(w.try_into().expect("a window"));
            if bits != 0 {
                return Ok(Block { start: from, bits });
            }
            from += BLOCK;
        }
        Err(from)
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Block, ByteRange, Stops, BLOCK, WINDOW};

    /// `Stops::first_portable` sixteen bytes at a time with SSE2.
    ///
    /// # Safety
    /// The CPU must have SSE2 (every x86-64 CPU does).
    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn first_sse2(
        stops: Stops,
        bytes: &[u8],
        mut from: usize,
    ) -> Result<Block, usize> {
        // Each range as the vectors `x - lo` is compared with: `x <= span`
        // unsigned is `min(x, span) == x`; a range that is off never holds.
        let range = |r: ByteRange| {
            let on = _mm_set1_epi8(if r.on { -1 } else { 0 });
            (_mm_set1_epi8(r.lo as i8), _mm_set1_epi8(r.span as i8), on)
        };
        let holds = |v: __m128i, (lo, span, on): (__m128i, __m128i, __m128i)| {
            let d = _mm_sub_epi8(v, lo);
            _mm_and_si128(_mm_cmpeq_epi8(_mm_min_epu8(d, span), d), on)
        };
        let (a0, a1) = (range(stops.ascii[0]), range(stops.ascii[1]));
        let (w0, w1) = (range(stops.wide[0]), range(stops.wide[1]));
        let (ef, bc) = (_mm_set1_epi8(0xEFu8 as i8), _mm_set1_epi8(0xBCu8 as i8));
        // Sixteen bytes at `o` of the window, whose last byte is `o + 17`.
        let half = |w: &[u8; WINDOW], o: usize| -> u32 {
            let p = w[o..o + 18].as_ptr();
            // SAFETY: `p` points at 18 readable bytes of `w`; the loads
            // read 16 bytes at `p`, `p + 1` and `p + 2`, unaligned loads.
            let (v0, v1, v2) = unsafe {
                (
                    _mm_loadu_si128(p.cast()),
                    _mm_loadu_si128(p.add(1).cast()),
                    _mm_loadu_si128(p.add(2).cast()),
                )
            };
            let ascii = _mm_or_si128(holds(v0, a0), holds(v0, a1));
            let third = _mm_or_si128(holds(v2, w0), holds(v2, w1));
            let lead = _mm_and_si128(_mm_cmpeq_epi8(v0, ef), _mm_cmpeq_epi8(v1, bc));
            let wide = _mm_and_si128(lead, third);
            (_mm_movemask_epi8(_mm_or_si128(ascii, wide)) as u32) & 0xFFFF
        };
        while let Some(w) = bytes.get(from..from + WINDOW) {
            let w: &[u8; WINDOW] = w.try_into().expect("a window");
            let bits = half(w, 0) | half(w, 16) << 16;
            if bits != 0 {
                return Ok(Block { start: from, bits });
            }
            from += BLOCK;
        }
        Err(from)
    }

    /// `Stops::first_portable` thirty-two bytes at a time with AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn first_avx2(
        stops: Stops,
        bytes: &[u8],
        mut from: usize,
    ) -> Result<Block, usize> {
        let range = |r: ByteRange| {
            let on = _mm256_set1_epi8(if r.on { -1 } else { 0 });
            (
                _mm256_set1_epi8(r.lo as i8),
                _mm256_set1_epi8(r.span as i8),
                on,
            )
        };
        let holds = |v: __m256i, (lo, span, on): (__m256i, __m256i, __m256i)| {
            let d = _mm256_sub_epi8(v, lo);
            _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(d, span), d), on)
        };
        let (a0, a1) = (range(stops.ascii[0]), range(stops.ascii[1]));
        let (w0, w1) = (range(stops.wide[0]), range(stops.wide[1]));
        let (ef, bc) = (
            _mm256_set1_epi8(0xEFu8 as i8),
            _mm256_set1_epi8(0xBCu8 as i8),
        );
        while let Some(w) = bytes.get(from..from + WINDOW) {
            let p = w.as_ptr();
            // SAFETY: `w` is WINDOW = 34 readable bytes at `p`; the loads
            // read 32 bytes at `p`, `p + 1` and `p + 2`, unaligned loads.
            let (v0, v1, v2) = unsafe {
                (
                    _mm256_loadu_si256(p.cast()),
                    _mm256_loadu_si256(p.add(1).cast()),
                    _mm256_loadu_si256(p.add(2).cast()),
                )
            };
            let ascii = _mm256_or_si256(holds(v0, a0), holds(v0, a1));
            let third = _mm256_or_si256(holds(v2, w0), holds(v2, w1));
            let lead = _mm256_and_si256(_mm256_cmpeq_epi8(v0, ef), _mm256_cmpeq_epi8(v1, bc));
            let wide = _mm256_and_si256(lead, third);
            let bits = _mm256_movemask_epi8(_mm256_or_si256(ascii, wide)) as u32;
            if bits != 0 {
                return Ok(Block { start: from, bits });
            }
            from += BLOCK;
        }
        Err(from)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("0".to_string()),
            Just("9".to_string()),
            Just("5".to_string()),
            Just("/".to_string()),
            Just(":".to_string()),
            Just("@".to_string()),
            Just("０".to_string()),
            Just("９".to_string()),
            Just("，".to_string()),
            Just("（".to_string()),
            Just("中".to_string()),
            Just("a".to_string()),
            Just("\u{ef}".to_string()),
            "[a-z ]{1,20}",
            "[中文字]{1,8}",
            Just("A".to_string()),
            Just("Z".to_string()),
            Just("Ａ".to_string()),
            Just("Ｚ".to_string()),
            Just("[".to_string()),
            Just("＠".to_string()),
            Just("［".to_string()),
            // Neighbours of the stops that are none.
            Just(";".to_string()),
            Just("?".to_string()),
            Just("：".to_string()),
            Just("？".to_string()),
            Just("；".to_string()),
            Just("\u{ff1f}".to_string()),
            Just("\u{ff40}".to_string()),
        ]
    }

    /// The stops the byte-by-byte rule gives, written out: the reference
    /// the block scans are held to.
    fn is_stop(bytes: &[u8], i: usize, on: [bool; 4]) -> bool {
        let [digits, at, upper, colon] = on;
        let b = bytes[i];
        let wide = |lo: u8, hi: u8| {
            b == 0xEF
                && bytes.get(i + 1) == Some(&0xBC)
                && bytes.get(i + 2).is_some_and(|c| (lo..=hi).contains(c))
        };
        (digits && (b.is_ascii_digit() || wide(0x90, 0x99)))
            || (upper && (b.is_ascii_uppercase() || wide(0xA1, 0xBA)))
            || (at && b == b'@')
            || (colon && b == b':')
    }

    proptest! {
        /// From every position, for every selection of stops, the portable,
        /// SSE2 and AVX2 block scans and the byte rule find the stop the
        /// reference finds.
        #[test]
        fn every_block_scan_finds_the_first_stop(
            pieces in proptest::collection::vec(piece(), 0..60),
            on in any::<[bool; 4]>(),
        ) {
            let text = pieces.concat();
            let bytes = text.as_bytes();
            let stops = Stops::new(on[0], on[1], on[2], on[3]);
            let finish = |r: Result<Block, usize>| match r {
                Ok(b) => Some(b.start + b.bits.trailing_zeros() as usize),
                Err(tail) => (tail..bytes.len()).find(|&j| stops.byte(bytes, j)),
            };
            // A pass's walk: from each stop, on from the next byte, and
            // from every position with no block kept.
            let mut block = Block::default();
            let mut walk = stops.next(&mut block, bytes, 0);
            for i in 0..=bytes.len() {
                let want = (i..bytes.len()).find(|&j| is_stop(bytes, j, on));
                let fresh = stops.next(&mut Block::default(), bytes, i);
                prop_assert_eq!(fresh, want, "from {} in {:?}", i, text);
                if walk.is_some_and(|w| w < i) {
                    walk = stops.next(&mut block, bytes, i);
                }
                prop_assert_eq!(walk, want, "walking, at {} in {:?}", i, text);
                prop_assert_eq!(finish(stops.first_portable(bytes, i)), want);
                #[cfg(target_arch = "x86_64")]
                {
                    // SAFETY: SSE2 is part of every x86-64 CPU.
                    let sse2 = unsafe { x86::first_sse2(stops, bytes, i) };
                    prop_assert_eq!(finish(sse2), want);
                    if std::arch::is_x86_feature_detected!("avx2") {
                        // SAFETY: the CPU has AVX2, checked just above.
                        let avx2 = unsafe { x86::first_avx2(stops, bytes, i) };
                        prop_assert_eq!(finish(avx2), want);
                    }
                }
            }
        }
    }

    /// Each byte of a block sets its own bit, whatever its position: the
    /// multiply that gathers the flags may not carry into a neighbour.
    #[test]
    fn every_position_of_a_block_sets_its_own_bit() {
        let stops = Stops::new(true, true, true, true);
        for k in 0..BLOCK {
            for pair in [[b'a', b'5'], [b'5', b'a'], [b'a', b'@'], [b'Q', b'z']] {
                let mut w = [pair[0]; WINDOW];
                w[k] = pair[1];
                let want: u32 = (0..BLOCK)
                    .filter(|&i| stops.byte(&w, i))
                    .map(|i| 1 << i)
                    .sum();
                assert_eq!(stops.block_portable(&w), want, "{pair:?} at {k}");
            }
        }
    }
}
