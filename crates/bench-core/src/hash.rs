use serde::Serialize;

/// The blake3 hash of `bytes`, as 64 lowercase hex digits.
pub fn content_id(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Canonical JSON: compact, with every object's keys sorted. Sorted here
/// rather than trusted to serde_json's map, whose order depends on whether any
/// crate in the build enabled its `preserve_order` feature. Identity hashes are
/// taken over this.
pub fn canonical_json<T: Serialize>(value: &T) -> Vec<u8> {
    let value = serde_json::to_value(value).expect("serialising plain data to JSON cannot fail");
    serde_json::to_vec(&sorted(value)).expect("serialising a JSON value cannot fail")
}

/// `value` as JSON with every object's keys sorted, for output that must be
/// byte-stable whichever serde_json features the build happens to unify.
pub fn sorted_value<T: Serialize>(value: &T) -> serde_json::Value {
    sorted(serde_json::to_value(value).expect("serialising plain data to JSON cannot fail"))
}

fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// A hasher over length-prefixed fields, so that ("ab", "c") and ("a", "bc")
/// never collide.
#[derive(Debug, Default)]
pub struct Hasher(blake3::Hasher);

impl Hasher {
    /// An empty hash.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one length-prefixed field, so fields cannot run into each other.
    pub fn field(&mut self, bytes: impl AsRef<[u8]>) -> &mut Self {
        let bytes = bytes.as_ref();
        self.0.update(&(bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// The hash so far, as lowercase hex.
    pub fn hex(&self) -> String {
        self.0.finalize().to_hex().to_string()
    }

    /// The first eight bytes of the hash, for ordering candidates.
    pub fn rank(&self) -> u64 {
        let hash = self.0.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&hash.as_bytes()[..8]);
        u64::from_be_bytes(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_length_prefixed() {
        let a = Hasher::new().field("ab").field("c").hex();
        let b = Hasher::new().field("a").field("bc").hex();
        assert_ne!(a, b);
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let v: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"d":2,"c":3}}"#).unwrap();
        assert_eq!(canonical_json(&v), br#"{"a":{"c":3,"d":2},"b":1}"#);
    }
}
