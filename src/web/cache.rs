//! A small bounded in-memory cache for figures computed by this instance. Callers put the
//! insurer's data version in the key, so an entry is never stale: an import or a settings change
//! bumps the version in the database and every instance simply computes under the new key.
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub struct BoundedCache<K, V> {
    map: Mutex<HashMap<K, V>>,
    max: usize,
}

impl<K: Eq + Hash, V: Clone> BoundedCache<K, V> {
    /// Holds at most `max` entries; when full it is emptied (old versions' entries go with it).
    pub fn new(max: usize) -> Self {
        BoundedCache {
            map: Mutex::new(HashMap::new()),
            max,
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    pub fn put(&self, key: K, value: V) {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= self.max {
            m.clear();
        }
        m.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_cache_is_emptied_before_the_next_entry() {
        let c = BoundedCache::new(2);
        c.put(1, "a");
        c.put(2, "b");
        assert_eq!(c.get(&1), Some("a"));
        c.put(3, "c");
        assert_eq!(c.get(&1), None);
        assert_eq!(c.get(&3), Some("c"));
    }
}
