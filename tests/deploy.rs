//! What ships for running pswatch elsewhere: the Kubernetes manifests pass the Kubernetes API
//! schemas (kubernetes-validate, strict), the configuration they carry passes `pswatch check`,
//! and the image keeps the properties its users rely on.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn manifests() -> Vec<PathBuf> {
    ["configmap", "secret", "statefulset", "service"]
        .iter()
        .map(|name| root().join(format!("deploy/kubernetes/{name}.yaml")))
        .collect()
}

/// Runs kubernetes-validate (from `bash tests/tools/install`) strictly over `files`.
fn validate(files: &[PathBuf]) -> std::process::Output {
    let validator = root().join(".test-tools/venv/bin/kubernetes-validate");
    Command::new(&validator)
        .arg("--strict")
        .args(files)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {} ({error}); run `bash tests/tools/install` once",
                validator.display()
            )
        })
}

#[test]
fn the_kubernetes_manifests_pass_the_api_schemas() {
    let output = validate(&manifests());
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{report}");
    assert_eq!(report.matches("passed").count(), 4, "{report}");
    // The validator refuses what is wrong: a misspelt field.
    let directory = tempfile::tempdir().expect("tempdir");
    let broken = directory.path().join("statefulset.yaml");
    let text = std::fs::read_to_string(&manifests()[2]).expect("read");
    std::fs::write(&broken, text.replace("replicas: 1", "replica: 1")).expect("write");
    assert!(!validate(&[broken]).status.success());
    // And the kustomization lists every manifest.
    let kustomization =
        std::fs::read_to_string(root().join("deploy/kubernetes/kustomization.yaml")).expect("read");
    for manifest in manifests() {
        let name = manifest
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(kustomization.contains(&name), "{name}");
    }
}

#[test]
fn the_configuration_in_the_configmap_passes_check() {
    let text = std::fs::read_to_string(&manifests()[0]).expect("read");
    let (_, block) = text
        .split_once("pswatch.toml: |\n")
        .expect("the config key");
    let toml: String = block
        .lines()
        .map(|line| line.strip_prefix("    ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n");
    let directory = tempfile::tempdir().expect("tempdir");
    let path = directory.path().join("pswatch.toml");
    std::fs::write(&path, toml).expect("write");
    let output = support::pswatch(
        &["check"],
        &path,
        &[
            ("PLANETSCALE_SERVICE_TOKEN_ID", "id".into()),
            ("PLANETSCALE_SERVICE_TOKEN", "token".into()),
            ("SLACK_BOT_TOKEN", "xoxb-1-2-3".into()),
            ("PSWATCH_ADMIN_TOKEN", "an-admin-token-long-enough-0123456789".into()),
        ],
    );
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The secrets it names are the Secret's keys.
    let secret = std::fs::read_to_string(&manifests()[1]).expect("read");
    for key in [
        "PLANETSCALE_SERVICE_TOKEN_ID",
        "PLANETSCALE_SERVICE_TOKEN",
        "SLACK_BOT_TOKEN",
    ] {
        assert!(secret.contains(&format!("{key}:")), "{key}");
    }
}

/// The image's promises: a fixed uid and gid, no home directory in the state volume, no
/// `VOLUME` for other services to inherit, a health check by pswatch itself, and the
/// dependencies built in a layer of their own.
#[test]
fn the_image_keeps_its_promises() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).expect("read");
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect();
    let has = |prefix: &str| instructions.iter().any(|line| line.starts_with(prefix));
    assert!(has("USER 10001:10001"));
    assert!(has("HEALTHCHECK") && dockerfile.contains("CMD [\"pswatch\", \"health\"]"));
    assert!(
        !has("VOLUME"),
        "a VOLUME is inherited by every service using the image"
    );
    assert!(dockerfile.contains("--no-create-home"));
    let manifests_first = dockerfile
        .find("COPY Cargo.toml Cargo.lock")
        .expect("manifests");
    let sources = dockerfile.find("COPY . .").expect("sources");
    assert!(
        manifests_first < sources,
        "the dependency layer comes first"
    );
}
