//! The rules ARCHITECTURE.md lists that the sources themselves show, checked by reading them
//! (no two modules import each other, the crates and the binary's parts each in one line, no
//! clock in the pure parts, no format in the core, one writer of deliveries, admin's handlers
//! on substates, the environment read by the binary only), and the map itself: every test it
//! names exists, and it stays short.

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
    // The admin server is given handles, never the pipeline or the loop.
    for forbidden in ["pipeline", "main_loop", "delivery"] {
        let forbidden = vec!["service".to_owned(), forbidden.to_owned()];
        for (module, used) in &edges {
            assert!(
                module.first().is_none_or(|first| first != "admin") || !used.contains(&forbidden),
                "{} uses {}",
                module.join("/"),
                forbidden.join("/")
            );
        }
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
const CRATES: [&str; 9] = [
    "diff-engine",
    "model",
    "wire",
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

/// The pure parts read no clock: the core, the scheduler and the chore table are given the
/// time.
#[test]
fn the_pure_parts_read_no_clock() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pure: Vec<(String, String)> = modules(&workspace.join("crates/diff-engine/src"))
        .into_iter()
        .filter(|(module, _)| module.first().is_none_or(|first| first != "testing"))
        .map(|(module, code)| (format!("diff-engine's {}", module.join("/")), code))
        .collect();
    for part in ["scheduler", "chores"] {
        let path = workspace.join(format!("crates/pswatch/service/{part}.rs"));
        let text = std::fs::read_to_string(path).expect("read");
        pure.push((format!("service/{part}"), code_of(&text)));
    }
    for (name, code) in pure {
        for clock in [
            "now_utc",
            "Instant::now",
            "SystemTime::now",
            "OffsetDateTime::now",
        ] {
            assert!(!code.contains(clock), "{name} reads the clock ({clock})");
        }
    }
}

/// The core's types carry no serde: a format belongs to the boundary that promises it.
#[test]
fn the_core_has_no_format() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml::Table =
        std::fs::read_to_string(workspace.join("crates/diff-engine/Cargo.toml"))
            .expect("manifest")
            .parse()
            .expect("toml");
    let dependencies = manifest
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .cloned()
        .unwrap_or_default();
    assert!(
        !dependencies.contains_key("serde"),
        "diff-engine depends on serde"
    );
    for (module, code) in modules(&workspace.join("crates/diff-engine/src")) {
        for format in ["Serialize", "Deserialize", "serde::"] {
            assert!(
                !code.replace("serde_json::", "").contains(format),
                "diff-engine's {} has a format ({format})",
                module.join("/")
            );
        }
    }
}

/// Only the outbox adds deliveries (and digests, which it sends): whatever else adds to a
/// channel's outbox would have to wake its worker on its own.
#[test]
fn only_the_outbox_adds_deliveries() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/pswatch");
    let writers = [
        vec!["service".to_owned(), "outbox".to_owned()],
        vec!["service".to_owned(), "digests".to_owned()],
    ];
    for (module, code) in modules(&root) {
        if writers.contains(&module) {
            continue;
        }
        for write in [
            ".commit_poll",
            ".enqueue_received(",
            ".revive(",
            ".mark_digest(",
            "send_due(",
        ] {
            assert!(
                !code.contains(write),
                "{} adds to the outbox itself ({write}); the Outbox does",
                module.join("/")
            );
        }
    }
}

/// Admin's handlers take the handles they use as substates, never the whole state.
#[test]
fn admin_handlers_take_only_their_handles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/pswatch/admin");
    for (module, code) in modules(&root) {
        assert!(
            !code.contains("State<AdminState>") && !code.contains("State<Arc<AdminState>>"),
            "a handler of admin/{} takes the whole state",
            module.join("/")
        );
    }
}

/// Only the binary reads environment variables and signals: the libraries take typed values
/// (their test helpers and the simulator's own program aside).
#[test]
fn only_the_binary_reads_the_environment() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in CRATES.iter().filter(|name| **name != "pswatch") {
        let mut folders = vec![workspace.join("crates").join(name).join("src")];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).expect("read_dir") {
                let path = entry.expect("entry").path();
                let file = path
                    .file_name()
                    .map(|file| file.to_string_lossy().into_owned());
                if path.is_dir() {
                    if file.as_deref() != Some("tests") {
                        folders.push(path);
                    }
                    continue;
                }
                if matches!(
                    file.as_deref(),
                    Some("main.rs" | "testing.rs" | "vendor_check.rs" | "tests.rs")
                ) {
                    continue;
                }
                let code = code_of(&std::fs::read_to_string(&path).expect("read"));
                for reading in ["env::var", "tokio::signal", "std::env::args"] {
                    assert!(
                        !code.contains(reading),
                        "{} reads the environment ({reading})",
                        path.display()
                    );
                }
            }
        }
    }
}

/// The map stays a map: short, and every test it names as checking a rule exists.
#[test]
fn every_test_the_map_names_exists() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(workspace.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let lines = map.lines().count();
    assert!(
        lines <= 210,
        "ARCHITECTURE.md has {lines} lines: a map, not a change log"
    );
    let rules = &map[map.find("## Invariants").expect("an Invariants section")..];
    let mut named = 0;
    for quoted in rules.split('`').skip(1).step_by(2) {
        let Some((file, test)) = quoted.split_once("::") else {
            continue;
        };
        if !file.ends_with(".rs") {
            continue;
        }
        named += 1;
        let text = std::fs::read_to_string(workspace.join(file))
            .unwrap_or_else(|error| panic!("ARCHITECTURE.md names {file}: {error}"));
        assert!(
            text.contains(&format!("fn {test}(")),
            "ARCHITECTURE.md names {file}::{test}, which does not exist"
        );
    }
    assert!(named > 0, "ARCHITECTURE.md names no test");
    // Every rule names at least one test.
    for rule in rules.split("\n- ").skip(1) {
        assert!(
            rule.contains(".rs::"),
            "a rule of ARCHITECTURE.md names no test that checks it: {rule}"
        );
    }
}

/// No source file holds more than 600 lines of code (blank lines, comments and its
/// `#[cfg(test)]` module not counted): past that, a file holds more than one thing.
#[test]
fn no_file_holds_more_than_six_hundred_lines_of_code() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut folders = vec![workspace.join("crates")];
    let mut large = Vec::new();
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read_dir") {
            let path = entry.expect("entry").path();
            let file = path
                .file_name()
                .map(|file| file.to_string_lossy().into_owned())
                .unwrap_or_default();
            if path.is_dir() {
                if !matches!(file.as_str(), "tests" | "benches" | "target") {
                    folders.push(path);
                }
                continue;
            }
            // Test suites: `tests.rs`, and the store's suite run against both backends.
            if !file.ends_with(".rs") || matches!(file.as_str(), "tests.rs" | "conformance.rs") {
                continue;
            }
            let code = code_of(&std::fs::read_to_string(&path).expect("read"));
            let lines = code.lines().filter(|line| !line.trim().is_empty()).count();
            if lines > 600 {
                large.push(format!("{}: {lines}", path.display()));
            }
        }
    }
    assert!(
        large.is_empty(),
        "files over 600 lines of code:\n{}",
        large.join("\n")
    );
}
