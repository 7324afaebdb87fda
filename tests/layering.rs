//! The architecture's dependency rules (docs/ARCHITECTURE.md), checked on the sources: the pure
//! core knows nothing of the client, the sync or the FFI layers; the API vocabulary (`api/`)
//! knows nothing of the sync; the sync knows nothing of `Client` or the FFI layers; the C and
//! UniFFI layers reach the library only through the client API. A `use` that breaks a rule fails
//! here with the file and the module it reached.

use std::path::{Path, PathBuf};

/// Modules each layer must not name (`crate::<module>`).
const RULES: &[(&str, &[&str])] = &[
    // The innermost layer: networks and their parameters.
    (
        "src/network",
        &[
            "wire", "sml", "quorum", "engine", "persist", "api", "client", "Client", "sync", "net",
            "store", "runtime", "c_api", "bindings", "simnet",
        ],
    ),
    // The pure core.
    (
        "src/persist",
        &[
            "api", "client", "Client", "sync", "net", "store", "runtime", "c_api", "bindings",
            "simnet", "engine", "chain", "wire",
        ],
    ),
    (
        "src/wire",
        &[
            "api", "client", "Client", "sync", "net", "store", "runtime", "c_api", "bindings",
            "simnet", "engine",
        ],
    ),
    (
        "src/chain",
        &[
            "api", "client", "Client", "sync", "net", "store", "runtime", "c_api", "bindings",
            "simnet", "engine",
        ],
    ),
    (
        "src/sml",
        &[
            "api", "client", "Client", "sync", "net", "store", "runtime", "c_api", "bindings",
            "simnet", "engine",
        ],
    ),
    (
        "src/quorum",
        &[
            "api", "client", "Client", "sync", "net", "store", "runtime", "c_api", "bindings",
            "simnet", "engine",
        ],
    ),
    (
        "src/engine",
        &[
            "api", "client", "Client", "sync", "net", "store", "runtime", "c_api", "bindings",
            "simnet",
        ],
    ),
    // The client API's vocabulary: plain values, no machinery.
    (
        "src/api",
        &[
            "client", "Client", "sync", "net", "runtime", "c_api", "bindings", "simnet",
        ],
    ),
    // The orchestrator: reports through the API types, never reaches the facade or the FFI.
    (
        "src/sync",
        &["client", "Client", "c_api", "bindings", "simnet"],
    ),
    (
        "src/net",
        &[
            "api", "client", "Client", "sync", "store", "c_api", "bindings", "simnet",
        ],
    ),
    // The FFI layers: projections of the client API only.
    (
        "src/c_api",
        &[
            "engine", "wire", "chain", "sml", "quorum", "sync", "net", "runtime", "persist",
        ],
    ),
    (
        "src/bindings",
        &[
            "engine", "wire", "chain", "sml", "quorum", "sync", "net", "runtime", "persist",
        ],
    ),
];

fn rust_files(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_file() {
        if p.extension().is_some_and(|e| e == "rs") {
            out.push(p.to_path_buf());
        }
        return;
    }
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            rust_files(&e.unwrap().path(), out);
        }
    }
}

/// The `crate::X` names a file uses, outside comments and test modules.
fn crate_refs(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        if line.trim_start().starts_with("#[cfg(test)]") {
            // Test modules come last in this code base; what they use is not a dependency
            // of the layer.
            break;
        }
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + 7..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((n + 1, name));
            }
            rest = after;
        }
    }
    out
}

#[test]
fn every_layer_depends_only_inwards() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut broken = Vec::new();
    let mut checked = 0;
    for (layer, forbidden) in RULES {
        let mut files = Vec::new();
        rust_files(&root.join(layer), &mut files);
        assert!(!files.is_empty(), "{layer}: no sources (rule out of date)");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            checked += 1;
            for (line, name) in crate_refs(&text) {
                if forbidden.contains(&name.as_str()) {
                    broken.push(format!(
                        "{}:{line} uses crate::{name}",
                        f.strip_prefix(root).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} files checked");
    assert!(
        broken.is_empty(),
        "dependency rules broken:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_checker_sees_a_forbidden_use() {
    let refs = crate_refs("use crate::sync::Shared; // crate::client in a comment\nfn f() {}\n");
    assert_eq!(refs, vec![(1, "sync".to_string())]);
    let refs =
        crate_refs("use crate::api::Config;\n#[cfg(test)]\nmod tests { use crate::sync; }\n");
    assert_eq!(refs, vec![(1, "api".to_string())]);
}
