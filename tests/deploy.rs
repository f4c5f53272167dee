//! What ships for running pswatch elsewhere: the Kubernetes manifests (one process on a volume,
//! and replicas on PostgreSQL in `ha/`) pass the Kubernetes API schemas (kubernetes-validate,
//! strict) and the Pod Security "restricted" level, the configurations they carry pass
//! `pswatch check`, and the image keeps the properties its users rely on.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const LAYOUTS: [&str; 2] = ["deploy/kubernetes", "deploy/kubernetes/ha"];

/// The manifests of a layout, as its kustomization lists them, and the Secret's example beside
/// them.
fn manifests(layout: &str) -> Vec<PathBuf> {
    let directory = root().join(layout);
    let kustomization =
        std::fs::read_to_string(directory.join("kustomization.yaml")).expect("read");
    let mut files: Vec<PathBuf> = kustomization
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- "))
        .filter(|name| name.ends_with(".yaml"))
        .map(|name| directory.join(name))
        .collect();
    files.push(directory.join("secret.example.yaml"));
    files
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
    for layout in LAYOUTS {
        let files = manifests(layout);
        let output = validate(&files);
        let report = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{layout}: {report}");
        assert_eq!(report.matches("passed").count(), files.len(), "{report}");
        // The kustomization lists every manifest but the Secret's example (the Secret is the
        // user's), and makes the ConfigMap from pswatch.toml.
        let kustomization =
            std::fs::read_to_string(root().join(layout).join("kustomization.yaml")).expect("read");
        let lists_secret = kustomization
            .lines()
            .any(|line| line.trim().starts_with("- ") && line.contains("secret"));
        assert!(!lists_secret, "{layout}: the Secret is the user's");
        assert!(
            kustomization.contains("configMapGenerator:")
                && kustomization.contains("- pswatch.toml"),
            "{layout}"
        );
        for entry in std::fs::read_dir(root().join(layout)).expect("list") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            let listed = !name.ends_with(".yaml")
                || name == "kustomization.yaml"
                || name == "secret.example.yaml"
                || kustomization.contains(&name);
            assert!(listed, "{layout}: {name}");
        }
    }
    // The validator refuses what is wrong: a misspelt field.
    let directory = tempfile::tempdir().expect("tempdir");
    let broken = directory.path().join("statefulset.yaml");
    let text =
        std::fs::read_to_string(root().join("deploy/kubernetes/statefulset.yaml")).expect("read");
    std::fs::write(&broken, text.replace("replicas: 1", "replica: 1")).expect("write");
    assert!(!validate(&[broken]).status.success());
}

/// The Pod Security Standards' "restricted" level, no service-account token, and readiness
/// that follows the receiver: what each workload's pod asks for.
#[test]
fn the_workloads_meet_the_restricted_pod_security_level() {
    for workload in [
        "deploy/kubernetes/statefulset.yaml",
        "deploy/kubernetes/ha/deployment.yaml",
    ] {
        let text = std::fs::read_to_string(root().join(workload)).expect("read");
        for required in [
            "automountServiceAccountToken: false",
            "runAsNonRoot: true",
            "seccompProfile:\n          type: RuntimeDefault",
            "allowPrivilegeEscalation: false",
            "drop: [\"ALL\"]",
            "readOnlyRootFilesystem: true",
            "path: /readyz/receiver",
        ] {
            assert!(text.contains(required), "{workload}: {required}");
        }
        assert!(!text.contains("privileged: true") && !text.contains("hostPath"));
    }
    let deployment =
        std::fs::read_to_string(root().join("deploy/kubernetes/ha/deployment.yaml")).expect("read");
    assert!(deployment.contains("replicas: 2"));
    assert!(deployment.contains("fieldPath: metadata.name"));
    let budget =
        std::fs::read_to_string(root().join("deploy/kubernetes/ha/poddisruptionbudget.yaml"))
            .expect("read");
    assert!(budget.contains("minAvailable: 1"));
}

#[test]
fn the_shipped_configurations_pass_check_and_refuse_the_placeholder_token() {
    let environment = |admin_token: &str| {
        vec![
            ("PLANETSCALE_SERVICE_TOKEN_ID", "id".to_owned()),
            ("PLANETSCALE_SERVICE_TOKEN", "token".to_owned()),
            ("SLACK_BOT_TOKEN", "xoxb-1-2-3".to_owned()),
            ("PSWATCH_ADMIN_TOKEN", admin_token.to_owned()),
            (
                "PSWATCH_DATABASE_URL",
                "postgres://pswatch:pw@db.example.com:5432/pswatch?sslmode=verify-full".to_owned(),
            ),
        ]
    };
    for layout in LAYOUTS {
        let path = root().join(layout).join("pswatch.toml");
        let output = support::pswatch(
            &["check"],
            &path,
            &environment("an-admin-token-long-enough-0123456789"),
        );
        assert!(
            output.status.success(),
            "{layout}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        // The placeholder of the Secret's example is refused.
        let output = support::pswatch(
            &["check"],
            &path,
            &environment("replace-me-with-openssl-rand-hex-32"),
        );
        assert!(!output.status.success(), "{layout}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("placeholder"));
        // The secrets it names are the Secret's keys.
        let config = std::fs::read_to_string(&path).expect("read");
        let secret =
            std::fs::read_to_string(root().join(layout).join("secret.example.yaml")).expect("read");
        for (key, _) in environment("") {
            if config.contains(&format!("${{{key}}}")) {
                assert!(secret.contains(&format!("{key}:")), "{layout}: {key}");
            }
        }
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
