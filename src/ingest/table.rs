//! A compact open-addressing table keyed by a hash of the 受付番号.
//!
//! `std`'s map rounds its bucket count up to a power of two and pads a `(u128, {u64, u64})`
//! entry to 32 bytes: 64 MB for a million notices. Here a slot is the packed key and value
//! (20 bytes here), the slot count is any number (a key's home slot is `key * n >> 64`),
//! and the table is filled to at most 4/5 with linear probing.
//!
//! Keys are already uniform hashes; the all-zero key marks an empty slot, so a real zero key
//! is stored as 1 (one more possible collision, as likely as any other).

/// A key: a hash value.
pub(crate) trait TableKey: Copy + Eq {
    const EMPTY: Self;
    /// A stand-in for a real key equal to `EMPTY`.
    const ONE: Self;
    /// The top 64 bits, uniform.
    fn spread(self) -> u64;
}

impl TableKey for u64 {
    const EMPTY: u64 = 0;
    const ONE: u64 = 1;
    fn spread(self) -> u64 {
        self
    }
}

impl TableKey for u128 {
    const EMPTY: u128 = 0;
    const ONE: u128 = 1;
    fn spread(self) -> u64 {
        (self >> 64) as u64
    }
}

/// The top 96 bits of a 128-bit hash, in 12 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, packed(4))]
pub(crate) struct Key96 {
    hi: u64,
    lo: u32,
}

impl Key96 {
    pub fn new(hash: u128) -> Self {
        Key96 {
            hi: (hash >> 64) as u64,
            lo: (hash >> 32) as u32,
        }
    }
}

impl TableKey for Key96 {
    const EMPTY: Key96 = Key96 { hi: 0, lo: 0 };
    const ONE: Key96 = Key96 { hi: 0, lo: 1 };
    fn spread(self) -> u64 {
        self.hi
    }
}

#[derive(Clone, Copy)]
#[repr(C, packed(4))]
struct Slot<K, V> {
    key: K,
    val: V,
}

pub(crate) struct IdTable<K, V> {
    slots: Vec<Slot<K, V>>,
    len: usize,
}

const MIN_SLOTS: usize = 64;

/// Keys per [`IdTable::touch`].
pub(crate) const BATCH: usize = 32;

impl<K: TableKey, V: Copy + Default> Default for IdTable<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: TableKey, V: Copy + Default> IdTable<K, V> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// Room for `n` keys without growing.
    pub fn with_capacity(n: usize) -> Self {
        IdTable {
            slots: vec![
                Slot {
                    key: K::EMPTY,
                    val: V::default(),
                };
                slots_for(n)
            ],
            len: 0,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Makes room for `n` keys in all, moving to a larger table if needed.
    pub fn reserve_total(&mut self, n: usize) {
        if slots_for(n) > self.slots.len() {
            self.rehash(slots_for(n));
        }
    }

    fn fix(key: K) -> K {
        if key == K::EMPTY {
            K::ONE
        } else {
            key
        }
    }

    fn home(&self, key: K) -> usize {
        ((u128::from(key.spread()) * self.slots.len() as u128) >> 64) as usize
    }

    /// Reads the slots where searches for `keys` start. Touching a batch of [`BATCH`] keys in
    /// a tight loop, then looking them up, has their cache (and TLB) misses in a table much
    /// larger than the caches overlap instead of coming one after the other: a software
    /// prefetch without `unsafe`. Larger batches would lose the TLB entries again.
    pub fn touch(&self, keys: impl Iterator<Item = K>) {
        let mut any = false;
        for key in keys {
            any ^= { self.slots[self.home(Self::fix(key))].key } == K::EMPTY;
        }
        std::hint::black_box(any);
    }

    pub fn get(&self, key: K) -> Option<V> {
        let key = Self::fix(key);
        let n = self.slots.len();
        let mut i = self.home(key);
        loop {
            let slot = self.slots[i];
            let k = slot.key;
            if k == key {
                return Some(slot.val);
            }
            if k == K::EMPTY {
                return None;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }

    /// Inserts `val` under `key` (`None`), or when the key is there already, hands its value to
    /// `present` to compare or update (`Some` of what `present` returns).
    pub fn upsert<T>(&mut self, key: K, val: V, present: impl FnOnce(&mut V) -> T) -> Option<T> {
        if (self.len + 1) * 5 > self.slots.len() * 4 {
            self.rehash(self.slots.len() * 2);
        }
        let key = Self::fix(key);
        let n = self.slots.len();
        let mut i = self.home(key);
        loop {
            let k = self.slots[i].key;
            if k == key {
                let mut v = self.slots[i].val;
                let t = present(&mut v);
                self.slots[i].val = v;
                return Some(t);
            }
            if k == K::EMPTY {
                self.slots[i] = Slot { key, val };
                self.len += 1;
                return None;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }

    fn rehash(&mut self, slots: usize) {
        let old = std::mem::replace(
            &mut self.slots,
            vec![
                Slot {
                    key: K::EMPTY,
                    val: V::default(),
                };
                slots.max(MIN_SLOTS)
            ],
        );
        let n = self.slots.len();
        for slot in old {
            let key = slot.key;
            if key == K::EMPTY {
                continue;
            }
            let mut i = self.home(key);
            while { self.slots[i].key } != K::EMPTY {
                i += 1;
                if i == n {
                    i = 0;
                }
            }
            self.slots[i] = slot;
        }
    }
}

/// Slots for `n` keys at a load of at most 4/5.
fn slots_for(n: usize) -> usize {
    (n.saturating_mul(5) / 4 + 1).max(MIN_SLOTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_finds_and_grows() {
        let mut t: IdTable<u64, u32> = IdTable::new();
        let key = |i: u64| xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes());
        for i in 0..10_000u64 {
            assert_eq!(t.upsert(key(i), i as u32, |_| ()), None);
        }
        assert_eq!(t.len(), 10_000);
        for i in 0..10_000u64 {
            assert_eq!(t.get(key(i)), Some(i as u32));
            assert_eq!(t.upsert(key(i), 0, |v| *v += 1), Some(()), "{i} lost");
        }
        assert_eq!(t.get(key(5)), Some(6));
        assert_eq!(t.get(key(10_001)), None);
        t.reserve_total(50_000);
        assert_eq!(t.get(key(9_999)), Some(10_000));
    }

    #[test]
    fn zero_and_one_share_a_slot_and_extreme_keys_wrap() {
        let mut t: IdTable<u128, u32> = IdTable::with_capacity(4);
        assert_eq!(t.upsert(0, 7, |_| ()), None);
        assert_eq!(t.upsert(1, 8, |v| *v), Some(7));
        for k in [u128::MAX, u128::MAX - 1, u128::MAX - 2] {
            assert_eq!(t.upsert(k, 9, |_| ()), None);
        }
        assert_eq!(t.get(u128::MAX - 2), Some(9));
        assert_eq!(t.len(), 4);
    }
}
