//! Reads a GGUF file's header: its metadata and tensor table. Never reads the
//! weights themselves, and bounds every length it is told, so a hostile file
//! cannot make it allocate without limit.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde_json::Value;

use crate::PlanError;

/// Arrays longer than this keep only their length (tokenizer vocabularies).
const MAX_KEPT_ARRAY: u64 = 4096;
const MAX_STRING: u64 = 1 << 24;

/// One tensor's name, type and shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// The tensor's name.
    pub name: String,
    /// Its ggml element type.
    pub ggml_type: u32,
    /// Its dimensions.
    pub dims: Vec<u64>,
}

impl TensorInfo {
    /// The element count; `None` when the dimensions overflow.
    pub fn elements(&self) -> Option<u64> {
        self.dims.iter().try_fold(1u64, |n, d| n.checked_mul(*d))
    }

    /// Bytes the tensor occupies, from its type's block size; `None` for an
    /// unknown type or a size that overflows.
    pub fn bytes(&self) -> Option<u64> {
        let (block_bytes, block_elems) = block_size(self.ggml_type)?;
        self.elements()?.div_ceil(block_elems).checked_mul(block_bytes)
    }
}

/// A parsed GGUF header.
#[derive(Debug, Clone)]
pub struct GgufHeader {
    /// The GGUF format version.
    pub version: u32,
    /// The key-value metadata.
    pub metadata: BTreeMap<String, Value>,
    /// The tensor table.
    pub tensors: Vec<TensorInfo>,
}

impl GgufHeader {
    /// Weight bytes: the sum over tensors of their typed sizes.
    pub fn weight_bytes(&self) -> u64 {
        self.tensors.iter().filter_map(TensorInfo::bytes).fold(0, u64::saturating_add)
    }

    /// The tensors whose placement the planner models apart.
    pub fn split(&self) -> crate::plan::TensorSplit {
        let bytes = |name: &str| self.tensors.iter().find(|t| t.name == name).and_then(TensorInfo::bytes);
        // ggml-cpu's repack: Q4_0 (2), Q4_K (12) and IQ4_NL (20) matrices
        // whose rows come in groups of 8; the embedding is read by row
        // lookup, never repacked.
        let repackable = self
            .tensors
            .iter()
            .filter(|t| matches!(t.ggml_type, 2 | 12 | 20) && t.dims.len() == 2 && t.dims[1] % 8 == 0)
            .filter(|t| t.name != "token_embd.weight")
            .filter_map(TensorInfo::bytes)
            .fold(0, u64::saturating_add);
        crate::plan::TensorSplit {
            token_embedding: bytes("token_embd.weight").unwrap_or(0),
            tied_output: bytes("output.weight").is_none(),
            repackable,
        }
    }
}

/// `(bytes per block, elements per block)` of a GGML tensor type.
pub fn block_size(ggml_type: u32) -> Option<(u64, u64)> {
    Some(match ggml_type {
        0 => (4, 1),      // F32
        1 => (2, 1),      // F16
        2 => (18, 32),    // Q4_0
        3 => (20, 32),    // Q4_1
        6 => (22, 32),    // Q5_0
        7 => (24, 32),    // Q5_1
        8 => (34, 32),    // Q8_0
        9 => (36, 32),    // Q8_1
        10 => (84, 256),  // Q2_K
        11 => (110, 256), // Q3_K
        12 => (144, 256), // Q4_K
        13 => (176, 256), // Q5_K
        14 => (210, 256), // Q6_K
        15 => (292, 256), // Q8_K
        16 => (66, 256),  // IQ2_XXS
        17 => (74, 256),  // IQ2_XS
        18 => (98, 256),  // IQ3_XXS
        19 => (50, 256),  // IQ1_S
        20 => (18, 32),   // IQ4_NL
        21 => (110, 256), // IQ3_S
        22 => (82, 256),  // IQ2_S
        23 => (136, 256), // IQ4_XS
        24 => (1, 1),     // I8
        25 => (2, 1),     // I16
        26 => (4, 1),     // I32
        27 => (8, 1),     // I64
        28 => (8, 1),     // F64
        29 => (56, 256),  // IQ1_M
        30 => (2, 1),     // BF16
        _ => return None,
    })
}

struct Reader<R> {
    r: R,
    path: String,
}

impl<R: Read> Reader<R> {
    fn err(&self, reason: impl Into<String>) -> PlanError {
        PlanError::Gguf { path: self.path.clone(), reason: reason.into() }
    }
    fn truncated(&self, what: &'static str) -> impl FnOnce(std::io::Error) -> PlanError + '_ {
        move |source| PlanError::Truncated { path: self.path.clone(), what, source }
    }
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], PlanError> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).map_err(self.truncated("header"))?;
        Ok(b)
    }
    fn u32(&mut self) -> Result<u32, PlanError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }
    fn u64(&mut self) -> Result<u64, PlanError> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }
    fn string(&mut self) -> Result<String, PlanError> {
        let len = self.u64()?;
        if len > MAX_STRING {
            return Err(self.err(format!("string of {len} bytes")));
        }
        let mut b = vec![0u8; len as usize];
        self.r.read_exact(&mut b).map_err(self.truncated("string"))?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }
    fn value(&mut self, ty: u32, depth: u32) -> Result<Value, PlanError> {
        Ok(match ty {
            0 => Value::from(self.bytes::<1>()?[0]),
            1 => Value::from(self.bytes::<1>()?[0] as i8),
            2 => Value::from(u16::from_le_bytes(self.bytes()?)),
            3 => Value::from(i16::from_le_bytes(self.bytes()?)),
            4 => Value::from(self.u32()?),
            5 => Value::from(i32::from_le_bytes(self.bytes()?)),
            6 => Value::from(f32::from_le_bytes(self.bytes()?) as f64),
            7 => Value::from(self.bytes::<1>()?[0] != 0),
            8 => Value::from(self.string()?),
            9 => {
                if depth > 2 {
                    return Err(self.err("arrays nested too deep"));
                }
                let item = self.u32()?;
                let len = self.u64()?;
                let mut kept = Vec::new();
                for i in 0..len {
                    let v = self.value(item, depth + 1)?;
                    if i < MAX_KEPT_ARRAY {
                        kept.push(v);
                    }
                }
                if len > MAX_KEPT_ARRAY {
                    serde_json::json!({"array_length": len})
                } else {
                    Value::Array(kept)
                }
            }
            10 => Value::from(self.u64()?),
            11 => Value::from(i64::from_le_bytes(self.bytes()?)),
            12 => Value::from(f64::from_le_bytes(self.bytes()?)),
            t => return Err(self.err(format!("unknown metadata type {t}"))),
        })
    }
}

/// Reads the header of the GGUF file at `path`.
pub fn read_header(path: &Path) -> Result<GgufHeader, PlanError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|source| PlanError::GgufIo { path: shown.clone(), source })?;
    let mut r = Reader { r: BufReader::new(file), path: shown };
    if &r.bytes::<4>()? != b"GGUF" {
        return Err(r.err("no GGUF magic"));
    }
    let version = r.u32()?;
    if !(2..=3).contains(&version) {
        return Err(r.err(format!("unsupported GGUF version {version}")));
    }
    let (n_tensors, n_kv) = (r.u64()?, r.u64()?);
    if n_tensors > 1 << 20 || n_kv > 1 << 20 {
        return Err(r.err("implausible tensor or metadata count"));
    }
    let mut metadata = BTreeMap::new();
    for _ in 0..n_kv {
        let key = r.string()?;
        let ty = r.u32()?;
        let v = r.value(ty, 0)?;
        metadata.insert(key, v);
    }
    let mut tensors = Vec::with_capacity(n_tensors as usize);
    for _ in 0..n_tensors {
        let name = r.string()?;
        let n_dims = r.u32()?;
        if n_dims > 8 {
            return Err(r.err(format!("tensor {name} has {n_dims} dimensions")));
        }
        let dims = (0..n_dims).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?;
        let ggml_type = r.u32()?;
        let _offset = r.u64()?;
        let tensor = TensorInfo { name, ggml_type, dims };
        if tensor.elements().is_none() {
            return Err(r.err(format!("tensor {}: dimensions {:?} overflow", tensor.name, tensor.dims)));
        }
        tensors.push(tensor);
    }
    Ok(GgufHeader { version, metadata, tensors })
}

/// The planner's view of the GGUF file at `path`.
pub fn shape(path: &Path) -> Result<crate::plan::ModelShape, PlanError> {
    let h = read_header(path)?;
    let shape =
        crate::plan::ModelShape::from_metadata(&h.metadata, h.weight_bytes()).ok_or_else(|| PlanError::Gguf {
            path: path.display().to_string(),
            reason: "the metadata lacks the architecture or block count".into(),
        })?;
    Ok(crate::plan::ModelShape { tensors: Some(h.split()), ..shape })
}

/// The blake3 of a whole file (a GGUF model's identity).
pub fn file_hash(path: &Path) -> Result<String, PlanError> {
    let err = |source: std::io::Error| PlanError::GgufIo { path: path.display().to_string(), source };
    let file = File::open(path).map_err(err)?;
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(BufReader::new(file)).map_err(err)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// The name of a GGUF `general.file_type` (the quantisation mix).
pub fn file_type_name(file_type: u64) -> Option<&'static str> {
    Some(match file_type {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        32 => "BF16",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header with one tensor of the given dimensions and no metadata.
    fn file_with_tensor(dims: &[u64]) -> tempfile::NamedTempFile {
        let mut b: Vec<u8> = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(1u64.to_le_bytes()); // tensors
        b.extend(0u64.to_le_bytes()); // metadata
        b.extend(4u64.to_le_bytes());
        b.extend(b"blk0");
        b.extend((dims.len() as u32).to_le_bytes());
        for d in dims {
            b.extend(d.to_le_bytes());
        }
        b.extend(0u32.to_le_bytes()); // F32
        b.extend(0u64.to_le_bytes());
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), b).unwrap();
        f
    }

    #[test]
    fn overflowing_dimensions_are_an_error_naming_the_file_and_tensor() {
        let f = file_with_tensor(&[1 << 40, 1 << 40]);
        let e = read_header(f.path()).unwrap_err().to_string();
        assert!(e.contains(&f.path().display().to_string()) && e.contains("blk0") && e.contains("overflow"), "{e}");
        // Dimensions that multiply out but whose byte size would not.
        let f = file_with_tensor(&[1 << 31, 1 << 31, 3]);
        let h = read_header(f.path()).unwrap();
        assert_eq!(h.tensors[0].bytes(), None);
        assert_eq!(h.weight_bytes(), 0);
        let f = file_with_tensor(&[4, 8]);
        assert_eq!(read_header(f.path()).unwrap().weight_bytes(), 128);
    }
}
