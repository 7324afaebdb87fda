//! Serialization primitives: a bounds-checked [`Reader`], a [`Writer`], the [`Encode`]/[`Decode`]
//! traits, compactSize, strings, vectors and Core's dynamic bitsets (PROTOCOL.md §0.2).
//!
//! Every decoder receives the negotiated protocol version through the reader
//! ([`Reader::version`]), never a global. Every count read from the wire is checked against the
//! bytes that remain *before* anything is allocated ([`Reader::read_count`]).

use super::WireError;
use crate::hashes::Hash256;

/// Core's `MAX_SIZE`: the largest compactSize accepted when it is used as a size.
pub const MAX_SIZE: u64 = 0x0200_0000;

/// A bounds-checked cursor over a byte slice, carrying the negotiated protocol version.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    version: u32,
}

impl<'a> Reader<'a> {
    /// A reader over `data` for negotiated protocol version `version`.
    pub fn new(data: &'a [u8], version: u32) -> Self {
        Reader {
            data,
            pos: 0,
            version,
        }
    }

    /// The negotiated protocol version the payload is decoded for.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Fails with [`WireError::TrailingBytes`] unless every byte was consumed.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.remaining() != 0 {
            return Err(WireError::TrailingBytes {
                remaining: self.remaining(),
                at: self.pos,
            });
        }
        Ok(())
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.remaining() {
            return Err(WireError::UnexpectedEof {
                needed: n,
                remaining: self.remaining(),
                at: self.pos,
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Takes every byte left (the fields a newer version appended, kept verbatim).
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.data[self.pos..];
        self.pos = self.data.len();
        s
    }

    /// Reads a fixed-size byte array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    /// Reads a bool encoded as one byte; any non-zero byte is true (as Core reads it).
    pub fn bool(&mut self) -> Result<bool, WireError> {
        Ok(self.u8()? != 0)
    }

    /// Little-endian u16.
    pub fn u16_le(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// Big-endian u16 (TCP ports in `CService`).
    pub fn u16_be(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Little-endian i16.
    pub fn i16_le(&mut self) -> Result<i16, WireError> {
        Ok(i16::from_le_bytes(self.array()?))
    }

    /// Little-endian u32.
    pub fn u32_le(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Little-endian i32.
    pub fn i32_le(&mut self) -> Result<i32, WireError> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    /// Little-endian u64.
    pub fn u64_le(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Little-endian i64.
    pub fn i64_le(&mut self) -> Result<i64, WireError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A 32-byte hash in internal order.
    pub fn hash(&mut self) -> Result<Hash256, WireError> {
        Ok(Hash256(self.array()?))
    }

    /// A canonical compactSize (non-minimal encodings are rejected, as Core does).
    pub fn compact_size(&mut self) -> Result<u64, WireError> {
        let at = self.pos;
        let first = self.u8()?;
        let (v, min) = match first {
            0..=0xfc => return Ok(first as u64),
            0xfd => (self.u16_le()? as u64, 0xfd),
            0xfe => (self.u32_le()? as u64, 0x1_0000),
            0xff => (self.u64_le()?, 0x1_0000_0000),
        };
        if v < min {
            return Err(WireError::NonCanonicalCompactSize { at });
        }
        Ok(v)
    }

    /// A compactSize used as an element count: rejected above [`MAX_SIZE`], and rejected when
    /// `count * min_elem_size` exceeds the bytes remaining, so no decoder ever allocates for
    /// elements that cannot be present. `min_elem_size` must be the smallest possible encoded
    /// size of one element (at least 1).
    pub fn read_count(&mut self, min_elem_size: usize) -> Result<usize, WireError> {
        let at = self.pos;
        let n = self.compact_size()?;
        if n > MAX_SIZE {
            return Err(WireError::SizeTooLarge { size: n, at });
        }
        let need = (n as u128) * (min_elem_size.max(1) as u128);
        if need > self.remaining() as u128 {
            return Err(WireError::CountExceedsInput {
                count: n,
                remaining: self.remaining(),
                at,
            });
        }
        Ok(n as usize)
    }

    /// A length-prefixed byte vector.
    pub fn var_bytes(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.read_count(1)?;
        self.take(n)
    }

    /// A length-prefixed string; bytes are kept as given (lossless re-encoding) and converted
    /// lossily for display by the caller if needed.
    pub fn var_string(&mut self) -> Result<Vec<u8>, WireError> {
        Ok(self.var_bytes()?.to_vec())
    }

    /// A vector of decodable items; `min_elem_size` bounds the count (see [`Reader::read_count`]).
    pub fn vec<T: Decode>(&mut self, min_elem_size: usize) -> Result<Vec<T>, WireError> {
        let n = self.read_count(min_elem_size)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::decode(self)?);
        }
        Ok(v)
    }

    /// A vector of at most `max` items (a protocol maximum for this field, named `field` in
    /// the error); `min_elem_size` also bounds the count by the bytes left.
    pub fn vec_max<T: Decode>(
        &mut self,
        min_elem_size: usize,
        max: usize,
        field: &'static str,
    ) -> Result<Vec<T>, WireError> {
        let at = self.pos;
        let n = self.read_count(min_elem_size)?;
        if n > max {
            return Err(WireError::invalid(
                field,
                format!("{n} entries at byte {at} (protocol maximum {max})"),
            ));
        }
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::decode(self)?);
        }
        Ok(v)
    }

    /// Core's dynamic bitset: compactSize bit count, then `ceil(n/8)` bytes LSB-first; set
    /// padding bits are rejected.
    pub fn bitset(&mut self) -> Result<BitSet, WireError> {
        let at = self.pos;
        let bits = self.compact_size()?;
        if bits > MAX_SIZE {
            return Err(WireError::SizeTooLarge { size: bits, at });
        }
        let nbytes = (bits as usize).div_ceil(8);
        let bytes = self.take(nbytes)?.to_vec();
        let set = BitSet {
            len: bits as usize,
            bytes,
        };
        if !set.padding_is_clear() {
            return Err(WireError::BitsetPadding { at });
        }
        Ok(set)
    }
}

/// An append-only byte buffer carrying the protocol version to encode for.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
    version: u32,
}

impl Writer {
    /// A writer encoding for negotiated protocol version `version`.
    pub fn new(version: u32) -> Self {
        Writer {
            buf: Vec::new(),
            version,
        }
    }

    /// The protocol version being encoded for.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Borrow the bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// A bool as one byte.
    pub fn bool(&mut self, v: bool) {
        self.buf.push(v as u8);
    }

    /// Little-endian u16.
    pub fn u16_le(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }

    /// Big-endian u16.
    pub fn u16_be(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }

    /// Little-endian i16.
    pub fn i16_le(&mut self, v: i16) {
        self.bytes(&v.to_le_bytes());
    }

    /// Little-endian u32.
    pub fn u32_le(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    /// Little-endian i32.
    pub fn i32_le(&mut self, v: i32) {
        self.bytes(&v.to_le_bytes());
    }

    /// Little-endian u64.
    pub fn u64_le(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    /// Little-endian i64.
    pub fn i64_le(&mut self, v: i64) {
        self.bytes(&v.to_le_bytes());
    }

    /// A hash in internal order.
    pub fn hash(&mut self, h: &Hash256) {
        self.bytes(&h.0);
    }

    /// A canonical compactSize.
    pub fn compact_size(&mut self, v: u64) {
        match v {
            0..=0xfc => self.u8(v as u8),
            0xfd..=0xffff => {
                self.u8(0xfd);
                self.u16_le(v as u16)
            }
            0x1_0000..=0xffff_ffff => {
                self.u8(0xfe);
                self.u32_le(v as u32)
            }
            _ => {
                self.u8(0xff);
                self.u64_le(v)
            }
        }
    }

    /// Length-prefixed bytes.
    pub fn var_bytes(&mut self, b: &[u8]) {
        self.compact_size(b.len() as u64);
        self.bytes(b);
    }

    /// A vector of encodable items.
    pub fn vec<T: Encode>(&mut self, items: &[T]) {
        self.compact_size(items.len() as u64);
        for i in items {
            i.encode(self);
        }
    }

    /// A dynamic bitset.
    pub fn bitset(&mut self, b: &BitSet) {
        self.compact_size(b.len as u64);
        self.bytes(&b.bytes);
    }
}

/// A type with a wire encoding (possibly depending on [`Writer::version`]).
pub trait Encode {
    /// Appends the encoding of `self`.
    fn encode(&self, w: &mut Writer);

    /// Encodes into a fresh buffer for protocol version `version`.
    fn to_bytes(&self, version: u32) -> Vec<u8> {
        let mut w = Writer::new(version);
        self.encode(&mut w);
        w.into_bytes()
    }
}

/// A type that can be decoded from the wire (possibly depending on [`Reader::version`]).
pub trait Decode: Sized {
    /// Reads one value.
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError>;

    /// Decodes a whole buffer for protocol version `version`, requiring every byte to be used.
    fn from_bytes(data: &[u8], version: u32) -> Result<Self, WireError> {
        let mut r = Reader::new(data, version);
        let v = Self::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

impl Encode for Hash256 {
    fn encode(&self, w: &mut Writer) {
        w.hash(self)
    }
}

impl Decode for Hash256 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        r.hash()
    }
}

impl Encode for u16 {
    fn encode(&self, w: &mut Writer) {
        w.u16_le(*self)
    }
}

impl Decode for u16 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        r.u16_le()
    }
}

impl Encode for i32 {
    fn encode(&self, w: &mut Writer) {
        w.i32_le(*self)
    }
}

impl Decode for i32 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        r.i32_le()
    }
}

/// Core's dynamic bitset (`DYNBITSET`): `len` bits stored LSB-first in `ceil(len/8)` bytes.
#[derive(Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct BitSet {
    len: usize,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for BitSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BitSet({}/{} set)", self.count_ones(), self.len)
    }
}

impl BitSet {
    /// `len` cleared bits.
    pub fn new(len: usize) -> Self {
        BitSet {
            len,
            bytes: vec![0; len.div_ceil(8)],
        }
    }

    /// Builds a bitset from booleans.
    pub fn from_bools(bits: &[bool]) -> Self {
        let mut b = BitSet::new(bits.len());
        for (i, &v) in bits.iter().enumerate() {
            b.set(i, v);
        }
        b
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a zero-length bitset.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The packed bytes (LSB-first), as serialized after the bit count.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Bit `i` (false beyond the end).
    pub fn get(&self, i: usize) -> bool {
        i < self.len && (self.bytes[i / 8] >> (i % 8)) & 1 == 1
    }

    /// Sets bit `i`; out-of-range indexes are ignored.
    pub fn set(&mut self, i: usize, v: bool) {
        if i >= self.len {
            return;
        }
        if v {
            self.bytes[i / 8] |= 1 << (i % 8);
        } else {
            self.bytes[i / 8] &= !(1 << (i % 8));
        }
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> usize {
        self.bytes.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Iterates over the bits.
    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).map(move |i| self.get(i))
    }

    fn padding_is_clear(&self) -> bool {
        let rem = self.len % 8;
        if rem == 0 {
            return true;
        }
        match self.bytes.last() {
            Some(last) => last >> rem == 0,
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_size_round_trip_and_canonical() {
        for v in [
            0u64,
            1,
            0xfc,
            0xfd,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            0x1_0000_0000,
        ] {
            let mut w = Writer::new(0);
            w.compact_size(v);
            let b = w.into_bytes();
            let mut r = Reader::new(&b, 0);
            assert_eq!(r.compact_size().unwrap(), v);
            assert!(r.is_empty());
        }
        let mut r = Reader::new(&[0xfd, 0x10, 0x00], 0);
        assert!(matches!(
            r.compact_size(),
            Err(WireError::NonCanonicalCompactSize { .. })
        ));
    }

    #[test]
    fn huge_count_on_small_input_fails_without_allocating() {
        // 2^32-1 elements announced in a 10-byte input.
        let data = [0xfe, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5];
        let mut r = Reader::new(&data, 0);
        assert!(matches!(
            r.vec::<Hash256>(32),
            Err(WireError::SizeTooLarge { .. })
        ));
        let data = [0xfe, 0x00, 0x00, 0x01, 0x00, 1, 2, 3, 4, 5];
        let mut r = Reader::new(&data, 0);
        assert!(matches!(
            r.vec::<Hash256>(32),
            Err(WireError::CountExceedsInput { .. })
        ));
    }

    #[test]
    fn bitset_padding_rejected() {
        let mut r = Reader::new(&[3, 0b0000_1000], 0);
        assert!(matches!(r.bitset(), Err(WireError::BitsetPadding { .. })));
        let mut r = Reader::new(&[3, 0b0000_0101], 0);
        let b = r.bitset().unwrap();
        assert!(b.get(0) && !b.get(1) && b.get(2));
        assert_eq!(b.count_ones(), 2);
    }

    #[test]
    fn eof_is_an_error() {
        let mut r = Reader::new(&[1, 2, 3], 0);
        assert!(matches!(r.u32_le(), Err(WireError::UnexpectedEof { .. })));
    }
}
