//! A throwaway PostgreSQL server for tests: a cluster made with Debian's `initdb` in a temporary
//! directory, listening on a free loopback port, run as the `postgres` user when the tests run
//! as root (PostgreSQL refuses root), stopped and removed when dropped.
//! `PSWATCH_TEST_DATABASE_URL` names an existing server instead.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::PostgresOptions;

/// A PostgreSQL server for one test (or one test binary).
pub struct TestDatabase {
    url: String,
    /// The cluster this started, when it started one.
    cluster: Option<Cluster>,
}

struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    root: bool,
    /// Whether it serves TLS, with a self-signed certificate for `localhost`.
    tls: bool,
}

impl Cluster {
    /// Runs one of PostgreSQL's programs, as `postgres` when the tests run as root.
    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(program);
        let mut command = if self.root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .output()
            .map_err(|error| format!("cannot run {}: {error}", program.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} {} failed: {}{}",
                program.display(),
                args.join(" "),
                String::from_utf8_lossy(&output.stderr),
                String::from_utf8_lossy(&output.stdout)
            ))
        }
    }

    fn start(&self) -> Result<(), String> {
        let data = self.data.display().to_string();
        let mut options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {data} -c fsync=off -c max_connections=200",
            self.port
        );
        if self.tls {
            options.push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
        }
        let log = self.data.join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-o", &options, "-l", &log, "-w", "-t", "60", "start",
            ],
        )
    }

    /// A self-signed certificate and its key in the data directory, readable by the server only.
    fn certificate(&self) -> Result<(), String> {
        let (certificate, key) = (self.data.join("server.crt"), self.data.join("server.key"));
        let output = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&certificate)
            .output()
            .map_err(|error| format!("cannot run openssl: {error}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
            .map_err(|error| error.to_string())?;
        if self.root {
            let status = Command::new("chown")
                .arg("postgres:postgres")
                .args([&certificate, &key])
                .status()
                .map_err(|error| error.to_string())?;
            if !status.success() {
                return Err("cannot give the certificate to postgres".into());
            }
        }
        Ok(())
    }

    fn stop(&self) -> Result<(), String> {
        let data = self.data.display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"])
    }
}

/// The newest PostgreSQL's programs Debian installed.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| output.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
    Ok(listener
        .local_addr()
        .map_err(|error| error.to_string())?
        .port())
}

impl TestDatabase {
    /// Starts a cluster (or uses `PSWATCH_TEST_DATABASE_URL`). Panics, saying what is missing,
    /// when there is no PostgreSQL: `bash tests/tools/install` installs Debian's.
    pub fn start() -> Self {
        if let Ok(url) = std::env::var("PSWATCH_TEST_DATABASE_URL") {
            return Self { url, cluster: None };
        }
        Self::start_cluster(false).unwrap_or_else(|error| {
            panic!("cannot start a PostgreSQL server for the tests ({error}); install Debian's postgresql (bash tests/tools/install) or set PSWATCH_TEST_DATABASE_URL")
        })
    }

    /// A cluster of its own that serves TLS with a self-signed certificate for `localhost`
    /// (made with `openssl`), for tests of `sslmode`.
    pub fn start_with_tls() -> Self {
        Self::start_cluster(true).unwrap_or_else(|error| {
            panic!("cannot start a PostgreSQL server with TLS for the tests ({error})")
        })
    }

    fn start_cluster(tls: bool) -> Result<Self, String> {
        static CLUSTERS: AtomicU64 = AtomicU64::new(0);
        let bin = postgres_bin().ok_or("no /usr/lib/postgresql/*/bin/initdb")?;
        let root = running_as_root();
        let directory = std::env::temp_dir().join(format!(
            "pswatch-pg-{}-{}",
            std::process::id(),
            CLUSTERS.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).map_err(|error| error.to_string())?;
        if root {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&directory)
                .status()
                .map_err(|error| error.to_string())?;
            if !status.success() {
                return Err(format!("cannot give {} to postgres", directory.display()));
            }
        }
        let cluster = Cluster {
            bin,
            data: directory.clone(),
            port: free_port()?,
            root,
            tls,
        };
        let data = directory.display().to_string();
        cluster.run(
            "initdb",
            &[
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
                &data,
            ],
        )?;
        if tls {
            cluster.certificate()?;
            // Only TLS over TCP: a connection in clear is refused, so one that works is
            // encrypted.
            std::fs::write(
                directory.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
            )
            .map_err(|error| error.to_string())?;
        }
        cluster.start()?;
        Ok(Self {
            url: format!(
                "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
                cluster.port
            ),
            cluster: Some(cluster),
        })
    }

    /// The server's URL (`sslmode=disable`, whether it serves TLS or not).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Options for a store in `schema` of this server.
    pub fn options(&self, schema: &str) -> PostgresOptions {
        PostgresOptions {
            url: self.url.clone(),
            schema: schema.to_owned(),
            pool_size: 8,
            timeout: Duration::from_secs(5),
        }
    }

    /// Stops the server (for tests of a database that goes away); [`TestDatabase::resume`]
    /// starts it again on the same port.
    pub fn stop(&self) -> Result<(), String> {
        match &self.cluster {
            Some(cluster) => cluster.stop(),
            None => Err("PSWATCH_TEST_DATABASE_URL names a server these tests do not run".into()),
        }
    }

    /// Starts the server stopped by [`TestDatabase::stop`] again.
    pub fn resume(&self) -> Result<(), String> {
        match &self.cluster {
            Some(cluster) => cluster.start(),
            None => Err("PSWATCH_TEST_DATABASE_URL names a server these tests do not run".into()),
        }
    }

    /// The cluster's data directory, if this started one.
    pub fn data_directory(&self) -> Option<&Path> {
        self.cluster.as_ref().map(|cluster| cluster.data.as_path())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(cluster) = &self.cluster {
            let data = cluster.data.display().to_string();
            let _ = cluster.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
            let _ = std::fs::remove_dir_all(&cluster.data);
        }
    }
}
