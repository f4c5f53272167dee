//! The shape ARCHITECTURE.md draws, checked by reading the sources: no two modules of any crate
//! import each other, however long the ring (a child may use what its parent defines), the
//! binary's parts stand in one line, `config`, `service`, `admin`, `cli`, each using only
//! those before it, the admin server never reaches the pipeline, the crates stand in one line
//! (the store without HTTP, Slack or mail), and the core reads no clock.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every `.rs` file below `root`, by its module path (`service/pipeline` is
/// `["service", "pipeline"]`; `mod.rs`, `lib.rs` and `main.rs` name their folder).
fn modules(root: &Path) -> BTreeMap<Module, String> {
    let mut found = BTreeMap::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let relative = path
                    .strip_prefix(root)
                    .expect("below root")
                    .with_extension("");
                let mut module: Module = relative
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    module.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    module.pop();
                }
                // Tests may reach anywhere: they are not part of the shape.
                if module.iter().any(|part| part == "tests") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read");
                found.insert(module, code_of(&text));
            }
        }
    }
    found
}

/// A file's code without its comments and its `#[cfg(test)]` module.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a file names from `crate::` or `super::`, as written (`super::super::x::y` gives
/// `["super", "super", "x", "y"]`); a group (`crate::{a, b::c}`) gives one path a member.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let at = from + at;
            from = at + start.len();
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut path = vec![start.trim_end_matches(':').to_owned()];
            let mut rest = &code[from..];
            loop {
                if let Some(group) = rest.strip_prefix('{') {
                    let end = group.find('}').unwrap_or(group.len());
                    for member in group[..end].split(',') {
                        let mut member_path = path.clone();
                        member_path.extend(
                            member
                                .trim()
                                .split("::")
                                .map(|part| part.trim().to_owned())
                                .filter(|part| !part.is_empty() && part != "self"),
                        );
                        found.push(member_path);
                    }
                    break;
                }
                let length = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                if length == 0 {
                    found.push(path);
                    break;
                }
                path.push(rest[..length].to_owned());
                rest = &rest[length..];
                match rest.strip_prefix("::") {
                    Some(next) => rest = next,
                    None => {
                        found.push(path);
                        break;
                    }
                }
            }
        }
    }
    found
}

/// Which modules each module uses: its children, and those it names by path; a child naming an
/// ancestor (what its parent defines for it) is no edge.
fn edges(modules: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut edges = BTreeMap::new();
    for (module, code) in modules {
        let mut used = BTreeSet::new();
        for path in paths(code) {
            let mut base: Module = Vec::new();
            let mut parts = path.iter().peekable();
            if parts.peek().is_some_and(|part| *part == "super") {
                base = module.clone();
                while parts.peek().is_some_and(|part| *part == "super") {
                    parts.next();
                    base.pop();
                }
            } else {
                parts.next();
            }
            let mut full = base;
            full.extend(parts.cloned());
            // The longest prefix that is a module.
            let target = (0..=full.len())
                .rev()
                .map(|length| full[..length].to_vec())
                .find(|prefix| modules.contains_key(prefix))
                .unwrap_or_default();
            let ancestor = target.len() < module.len() && module[..target.len()] == target[..];
            if target != *module && !ancestor {
                used.insert(target);
            }
        }
        // A parent uses the children it declares.
        used.extend(
            modules
                .keys()
                .filter(|child| child.len() == module.len() + 1 && child.starts_with(module))
                .cloned(),
        );
        edges.insert(module.clone(), used);
    }
    edges
}

/// The rings of modules that import each other.
fn rings(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    // Tarjan's strongly connected components.
    struct State<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        rings: Vec<Vec<Module>>,
    }
    fn visit<'a>(state: &mut State<'a>, module: &'a Module) {
        let next = state.index.len();
        state.index.insert(module, next);
        state.low.insert(module, next);
        state.stack.push(module);
        state.on_stack.insert(module);
        let edges = state.edges;
        for used in edges.get(module).into_iter().flatten() {
            let Some((used, _)) = edges.get_key_value(used) else {
                continue;
            };
            if !state.index.contains_key(used) {
                visit(state, used);
                let low = state.low[module].min(state.low[used]);
                state.low.insert(module, low);
            } else if state.on_stack.contains(used) {
                let low = state.low[module].min(state.index[used]);
                state.low.insert(module, low);
            }
        }
        if state.low[module] == state.index[module] {
            let mut ring = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                ring.push(member.clone());
                if member == module {
                    break;
                }
            }
            if ring.len() > 1 {
                state.rings.push(ring);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        rings: Vec::new(),
    };
    for module in edges.keys() {
        if !state.index.contains_key(module) {
            visit(&mut state, module);
        }
    }
    state.rings
}

fn roots() -> Vec<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![workspace.join("crates/pswatch")];
    for entry in std::fs::read_dir(workspace.join("crates")).expect("crates") {
        let source = entry.expect("entry").path().join("src");
        if source.is_dir() {
            roots.push(source);
        }
    }
    roots.sort();
    roots
}

#[test]
fn no_two_modules_import_each_other() {
    let mut found = Vec::new();
    for root in roots() {
        let modules = modules(&root);
        assert!(!modules.is_empty(), "no modules read in {}", root.display());
        for ring in rings(&edges(&modules)) {
            let names: Vec<String> = ring.iter().map(|module| module.join("/")).collect();
            found.push(format!("{}: {}", root.display(), names.join(" <-> ")));
        }
    }
    assert!(
        found.is_empty(),
        "modules that import each other:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_binarys_parts_stand_in_one_line() {
    let order = ["config", "service", "admin", "cli"];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/pswatch");
    let edges = edges(&modules(&root));
    let mut wrong = Vec::new();
    for (module, used) in &edges {
        let Some(from) = order
            .iter()
            .position(|part| module.first().is_some_and(|first| first == part))
        else {
            continue;
        };
        for target in used {
            let to = order
                .iter()
                .position(|part| target.first().is_some_and(|first| first == part));
            if to.is_some_and(|to| to > from) {
                wrong.push(format!("{} uses {}", module.join("/"), target.join("/")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "against the order {order:?}:\n{}",
        wrong.join("\n")
    );
    // The admin server reads the board and the store, never the pipeline.
    let pipeline = vec!["service".to_owned(), "pipeline".to_owned()];
    for (module, used) in &edges {
        assert!(
            module.first().is_none_or(|first| first != "admin") || !used.contains(&pipeline),
            "{} uses the pipeline",
            module.join("/")
        );
    }
}

#[test]
fn the_reader_of_paths_finds_what_a_file_names() {
    let code = "use crate::{a::b, c};\nuse super::super::d::E;\nlet x = crate::f::g(1);";
    assert_eq!(
        paths(code),
        [
            vec!["crate", "a", "b"],
            vec!["crate", "c"],
            vec!["crate", "f", "g"],
            vec!["super", "super", "d", "E"],
        ]
    );
    let mut modules = BTreeMap::new();
    modules.insert(vec!["a".to_owned()], "use crate::b::X;".to_owned());
    modules.insert(vec!["b".to_owned()], "use super::a::Y;".to_owned());
    modules.insert(vec![], String::new());
    assert_eq!(rings(&edges(&modules)).len(), 1, "a ring of two");
}

/// The crates in their one line: each depends (outside its tests) only on crates before it.
const CRATES: [&str; 8] = [
    "diff-engine",
    "model",
    "http-util",
    "poller",
    "store",
    "notifier",
    "simulator",
    "pswatch",
];

#[test]
fn the_crates_stand_in_one_line() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut wrong = Vec::new();
    for (place, name) in CRATES.iter().enumerate() {
        let manifest = if *name == "pswatch" {
            workspace.join("Cargo.toml")
        } else {
            workspace.join("crates").join(name).join("Cargo.toml")
        };
        let text = std::fs::read_to_string(&manifest).expect("manifest");
        let manifest: toml::Table = text.parse().expect("toml");
        let dependencies = manifest
            .get("dependencies")
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default();
        for dependency in dependencies.keys() {
            if let Some(at) = CRATES.iter().position(|other| other == dependency) {
                if at >= place {
                    wrong.push(format!("{name} depends on {dependency}"));
                }
            }
        }
        // The store knows no HTTP, Slack or mail: of pswatch's crates, the core and the model.
        if *name == "store" {
            for dependency in dependencies.keys() {
                assert!(
                    !["http-util", "poller", "notifier", "reqwest", "lettre"]
                        .contains(&dependency.as_str()),
                    "the store depends on {dependency}"
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The core reads no clock: the time is passed in.
#[test]
fn the_core_reads_no_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/diff-engine/src");
    for (module, code) in modules(&root) {
        if module.first().is_some_and(|first| first == "testing") {
            continue;
        }
        for clock in [
            "now_utc",
            "Instant::now",
            "SystemTime::now",
            "OffsetDateTime::now",
        ] {
            assert!(
                !code.contains(clock),
                "diff-engine's {} reads the clock ({clock})",
                module.join("/")
            );
        }
    }
}
