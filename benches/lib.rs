//! The cross-crate benchmarks (`cargo bench -p benches`): scan and extract
//! on a large tree, synthesis and grading with execution on the pinned
//! Cerberus 1.3.4 (plain and renamed, correct and hostile answers), and the
//! runner's orchestration overhead. The library itself is empty.
