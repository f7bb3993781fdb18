//! The library's top-level modules import one another without a cycle, as
//! ARCHITECTURE.md's layering says: each module's `crate::<module>` paths
//! outside its tests, read from the source.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `module -> modules it names`, for every top-level module under `src/`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let Some(rel) = rel.strip_suffix(".rs") else {
                continue;
            };
            let module = rel.split('/').next().unwrap().to_string();
            if matches!(module.as_str(), "lib" | "main") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let names = edges.entry(module.clone()).or_default();
            for part in code.split("crate::").skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    names.insert(name);
                }
            }
        }
    }
    edges
}

#[test]
fn top_level_modules_import_each_other_without_a_cycle() {
    let edges = imports();
    // Peel off modules that import nothing left; what remains is a cycle.
    let mut left: BTreeMap<String, BTreeSet<String>> = edges.clone();
    loop {
        let leaves: Vec<String> = left
            .iter()
            .filter(|(_, deps)| deps.iter().all(|d| !left.contains_key(d)))
            .map(|(m, _)| m.clone())
            .collect();
        if leaves.is_empty() {
            break;
        }
        for m in leaves {
            left.remove(&m);
        }
    }
    assert!(left.is_empty(), "modules in or above a cycle: {left:#?}");
    for below_state in ["repo", "lock", "milestone"] {
        let names = &edges[below_state];
        assert!(!names.contains("state"), "{below_state}: {names:?}");
    }
    assert!(
        edges["ui"].iter().all(|m| m == "error"),
        "{:?}",
        edges["ui"]
    );
}
