//! The shared backend: a table of byte keys and values in PostgreSQL, for several replicas.
//!
//! Built to stand behind a transaction-mode pooler (PgBouncer, which PlanetScale puts in front
//! of PostgreSQL): every statement is sent unnamed (`query_typed`, nothing prepared that outlives
//! it), every operation is one transaction whose statement timeout is `SET LOCAL`, and the
//! migrations take a transaction-scoped advisory lock, never a session one.

mod lease;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::SslMode;
use tokio_postgres::types::Type;

use super::{Batch, Op, Pair};
use crate::StoreError;

/// How a PostgreSQL store is reached.
#[derive(Clone)]
pub struct PostgresOptions {
    /// `postgres://user:password@host:port/database?sslmode=…`; a secret (it may hold a
    /// password), never shown.
    pub url: String,
    /// The schema the tables live in, created if missing.
    pub schema: String,
    /// The most connections the pool opens.
    pub pool_size: usize,
    /// The longest a statement, a connection or a wait for one may take.
    pub timeout: Duration,
}

impl fmt::Debug for PostgresOptions {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PostgresOptions")
            .field("url", &"<redacted>")
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// How the connection is encrypted, as libpq's `sslmode` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// No TLS.
    Disable,
    /// TLS if the server offers it, without checking its certificate.
    Prefer,
    /// TLS, without checking the server's certificate (libpq's `require`).
    Require,
    /// TLS, the server's certificate checked against the web's roots and its name.
    VerifyFull,
}

/// The schema versions, in order: each is applied once, in one transaction with its number.
const MIGRATIONS: &[&str] = &[
    // 1: the records, and the sequence outbox ids come from.
    "CREATE TABLE {schema}.records (key bytea PRIMARY KEY, value bytea NOT NULL);
     CREATE SEQUENCE {schema}.ids AS bigint MINVALUE 0 START 0;",
    // 2: the leader's lease, and the replicas' heartbeats.
    "CREATE TABLE {schema}.lease (
         name text PRIMARY KEY,
         holder text NOT NULL,
         epoch bigint NOT NULL,
         expires_at timestamptz NOT NULL,
         renewed_at timestamptz NOT NULL);
     CREATE TABLE {schema}.replicas (
         id text PRIMARY KEY,
         started_at timestamptz NOT NULL,
         heartbeat_at timestamptz NOT NULL);",
];

/// Whose writes a store lets through: anyone's (one process, or writes any replica makes), or
/// only a leader's whose lease is still current.
#[derive(Debug, Clone)]
pub enum Fence {
    /// Writes are not fenced.
    Open,
    /// This replica leads with `epoch`; its lease lapses at `until` by this machine's clock
    /// (a bound set short of the database's, which decides).
    Leader {
        /// The replica.
        holder: String,
        /// The lease's epoch.
        epoch: u64,
        /// When this replica stops trusting its lease, without asking.
        until: tokio::time::Instant,
    },
    /// This replica does not lead: the leader's writes are refused.
    Standby,
}

/// Who leads, as the database says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    /// The leading replica's id.
    pub holder: String,
    /// Its lease's epoch: one more at every takeover.
    pub epoch: u64,
    /// How long its lease still runs (zero when it lapsed).
    pub expires_in: Duration,
}

/// A replica, as its heartbeats say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    /// Its id.
    pub id: String,
    /// How long ago its last heartbeat was.
    pub heartbeat_age: Duration,
}

/// A pool of connections to one schema of one database.
#[derive(Clone)]
pub(crate) struct PostgresBackend {
    pool: Pool,
    /// `"schema"`, quoted.
    schema: Arc<str>,
    timeout: Duration,
    fence: Arc<std::sync::RwLock<Fence>>,
}

/// What a database error means, in a message that holds no secret (tokio-postgres never puts
/// the connection string in its errors).
fn database(error: impl fmt::Display) -> StoreError {
    StoreError::Database(error.to_string())
}

/// The details of a PostgreSQL error (its message, detail and hint), not only its kind.
fn query(error: tokio_postgres::Error) -> StoreError {
    match error.as_db_error() {
        Some(db) => StoreError::Database(format!(
            "{}: {}{}",
            db.severity(),
            db.message(),
            db.hint()
                .map(|hint| format!(" ({hint})"))
                .unwrap_or_default()
        )),
        None => database(crate::error_chain(&error)),
    }
}

/// `name` as a quoted identifier, if it is a plain one: letters, digits and underscores, not
/// starting with a digit, at most 63 bytes.
pub fn schema_identifier(name: &str) -> Result<String, String> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ok(format!("\"{name}\""))
    } else {
        Err(format!(
            "{name:?} is not a schema name pswatch uses: lowercase letters, digits and _, not starting with a digit, at most 63"
        ))
    }
}

/// Splits `sslmode` out of a connection URL (tokio-postgres does not know `verify-full`):
/// the URL without it, and the mode (`prefer` when not given, as libpq does).
pub fn split_tls_mode(url: &str) -> Result<(String, TlsMode), String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("must be a URL starting with postgres:// or postgresql://".into());
    }
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let mut mode = TlsMode::Prefer;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", value)) => {
                mode = match value {
                    "disable" => TlsMode::Disable,
                    "prefer" | "allow" => TlsMode::Prefer,
                    "require" => TlsMode::Require,
                    "verify-full" => TlsMode::VerifyFull,
                    "verify-ca" => return Err("sslmode=verify-ca is not supported; use verify-full (the certificate and the host name checked) or require".into()),
                    other => return Err(format!("sslmode={other:?} is not one of disable, prefer, require, verify-full")),
                }
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, mode))
}

/// Accepts any certificate: libpq's `require` and `prefer` encrypt without checking whom to.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &rustls::pki_types::CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &rustls::pki_types::CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS configuration of `mode`.
fn tls_config(mode: TlsMode) -> Result<rustls::ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(database)?;
    Ok(match mode {
        TlsMode::VerifyFull => {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
    })
}

impl PostgresBackend {
    /// Connects, and brings the schema up to date (one replica at a time).
    pub(crate) async fn connect(options: &PostgresOptions) -> Result<Self, StoreError> {
        let schema: Arc<str> = schema_identifier(&options.schema)
            .map_err(StoreError::Invalid)?
            .into();
        let (url, mode) = split_tls_mode(&options.url).map_err(StoreError::Invalid)?;
        let mut config = tokio_postgres::Config::from_str(&url)
            .map_err(|error| StoreError::Invalid(format!("state.url cannot be read: {error}")))?;
        config
            .ssl_mode(match mode {
                TlsMode::Disable => SslMode::Disable,
                TlsMode::Prefer => SslMode::Prefer,
                TlsMode::Require | TlsMode::VerifyFull => SslMode::Require,
            })
            .connect_timeout(options.timeout)
            .application_name("pswatch");
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(mode)?);
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.timeout))
            .create_timeout(Some(options.timeout))
            .recycle_timeout(Some(options.timeout))
            .build()
            .map_err(database)?;
        let backend = Self {
            pool,
            schema,
            timeout: options.timeout,
            fence: Arc::new(std::sync::RwLock::new(Fence::Open)),
        };
        backend.migrate().await?;
        Ok(backend)
    }

    /// Runs `work` in one transaction with the statement timeout set for it, committing when
    /// it succeeds; the whole is bounded by the timeout too.
    async fn transaction<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: for<'t> FnOnce(
            &'t tokio_postgres::Transaction<'t>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<T, StoreError>> + Send + 't>,
        >,
    {
        let run = async {
            let mut client = self.pool.get().await.map_err(|error| {
                database(format!("cannot get a connection to the database: {error}"))
            })?;
            let transaction = client.transaction().await.map_err(query)?;
            transaction
                .batch_execute(&format!(
                    "SET LOCAL statement_timeout = {}",
                    self.timeout.as_millis()
                ))
                .await
                .map_err(query)?;
            let result = work(&transaction).await?;
            transaction.commit().await.map_err(query)?;
            Ok(result)
        };
        tokio::time::timeout(self.timeout * 2, run)
            .await
            .map_err(|_| {
                database(format!(
                    "the database did not answer within {}s",
                    (self.timeout * 2).as_secs()
                ))
            })?
    }

    /// Applies the migrations this build knows and the database lacks, under a transaction
    /// advisory lock, so replicas starting together apply each once.
    async fn migrate(&self) -> Result<(), StoreError> {
        let schema = Arc::clone(&self.schema);
        self.transaction(move |transaction| {
            Box::pin(async move {
                transaction
                    .query_typed(
                        "SELECT pg_advisory_xact_lock(hashtext($1))",
                        &[(&format!("pswatch migrations {schema}"), Type::TEXT)],
                    )
                    .await
                    .map_err(query)?;
                transaction
                    .batch_execute(&format!(
                        "SET LOCAL client_min_messages = warning;
                         CREATE SCHEMA IF NOT EXISTS {schema};
                         CREATE TABLE IF NOT EXISTS {schema}.migrations (
                             version integer PRIMARY KEY,
                             applied_at timestamptz NOT NULL DEFAULT now());"
                    ))
                    .await
                    .map_err(query)?;
                let row = transaction
                    .query_typed_one(
                        &format!("SELECT coalesce(max(version), 0) FROM {schema}.migrations"),
                        &[],
                    )
                    .await
                    .map_err(query)?;
                let applied: i32 = row.get(0);
                let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
                if applied > known {
                    return Err(StoreError::Database(format!(
                        "the schema {schema} is at version {applied}, newer than this pswatch knows ({known}); run a newer pswatch"
                    )));
                }
                for (version, migration) in (1..).zip(MIGRATIONS).skip(applied as usize) {
                    transaction
                        .batch_execute(&migration.replace("{schema}", &schema))
                        .await
                        .map_err(query)?;
                    transaction
                        .query_typed(
                            &format!("INSERT INTO {schema}.migrations (version) VALUES ($1)"),
                            &[(&version, Type::INT4)],
                        )
                        .await
                        .map_err(query)?;
                }
                Ok(())
            })
        })
        .await
    }

    /// The least key above every key under `prefix`, if there is one.
    fn upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
        let mut upper = prefix.to_vec();
        while let Some(last) = upper.pop() {
            if last < u8::MAX {
                upper.push(last + 1);
                return Some(upper);
            }
        }
        None
    }

    /// Rows of `key, value` (or `key` alone) under `prefix`, after `after`, at most `limit`.
    async fn select(
        &self,
        columns: &'static str,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: Option<usize>,
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        let schema = Arc::clone(&self.schema);
        let lower = after.unwrap_or(prefix).to_vec();
        let strict = after.is_some();
        let upper = Self::upper_bound(prefix);
        let limit = limit.map_or(i64::MAX, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
        self.transaction(move |transaction| {
            Box::pin(async move {
                let lower_test = if strict { ">" } else { ">=" };
                let sql = format!(
                    "SELECT {columns} FROM {schema}.records
                     WHERE key {lower_test} $1 AND ($2::bytea IS NULL OR key < $2)
                     ORDER BY key LIMIT $3"
                );
                transaction
                    .query_typed(
                        &sql,
                        &[
                            (&lower, Type::BYTEA),
                            (&upper, Type::BYTEA),
                            (&limit, Type::INT8),
                        ],
                    )
                    .await
                    .map_err(query)
            })
        })
        .await
    }

    pub(super) async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let schema = Arc::clone(&self.schema);
        let key = key.to_vec();
        self.transaction(move |transaction| {
            Box::pin(async move {
                let row = transaction
                    .query_typed_opt(
                        &format!("SELECT value FROM {schema}.records WHERE key = $1"),
                        &[(&key, Type::BYTEA)],
                    )
                    .await
                    .map_err(query)?;
                Ok(row.map(|row| row.get::<_, Vec<u8>>(0)))
            })
        })
        .await
    }

    pub(super) async fn scan(&self, prefix: &[u8]) -> Result<Vec<Pair>, StoreError> {
        Ok(self
            .select("key, value", prefix, None, None)
            .await?
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    pub(super) async fn keys(&self, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self
            .select("key", prefix, None, None)
            .await?
            .into_iter()
            .map(|row| row.get(0))
            .collect())
    }

    pub(super) async fn count(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        let schema = Arc::clone(&self.schema);
        let lower = prefix.to_vec();
        let upper = Self::upper_bound(prefix);
        self.transaction(move |transaction| {
            Box::pin(async move {
                let row = transaction
                    .query_typed_one(
                        &format!(
                            "SELECT count(*) FROM {schema}.records
                             WHERE key >= $1 AND ($2::bytea IS NULL OR key < $2)"
                        ),
                        &[(&lower, Type::BYTEA), (&upper, Type::BYTEA)],
                    )
                    .await
                    .map_err(query)?;
                Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
            })
        })
        .await
    }

    pub(super) async fn page(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Pair>, StoreError> {
        Ok(self
            .select("key, value", prefix, after, Some(limit))
            .await?
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    /// Applies the batch in one transaction: what it leaves of each key (its last change) is
    /// written, the removed keys deleted and the others upserted, in two statements.
    pub(super) async fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let lease = if batch.is_fenced() {
            self.lease_for_write()?
        } else {
            None
        };
        let mut last: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        let (mut new_keys, mut new_values) = (Vec::new(), Vec::new());
        for op in batch.ops() {
            match op {
                Op::Put(key, value) => last.insert(key.clone(), Some(value.clone())),
                Op::Remove(key) => last.insert(key.clone(), None),
                Op::PutNew(key, value) => {
                    new_keys.push(key.clone());
                    new_values.push(value.clone());
                    None
                }
            };
        }
        let (mut removed, mut keys, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for (key, value) in last {
            match value {
                Some(value) => {
                    keys.push(key);
                    values.push(value);
                }
                None => removed.push(key),
            }
        }
        let schema = Arc::clone(&self.schema);
        self.transaction(move |transaction| {
            Box::pin(async move {
                if let Some((holder, epoch)) = &lease {
                    // Shared: a takeover waits for this transaction, and none commits after one.
                    let current = transaction
                        .query_typed_opt(
                            &format!(
                                "SELECT 1 FROM {schema}.lease
                                 WHERE name = 'leader' AND holder = $1 AND epoch = $2
                                   AND expires_at > now()
                                 FOR SHARE"
                            ),
                            &[(holder, Type::TEXT), (epoch, Type::INT8)],
                        )
                        .await
                        .map_err(query)?;
                    if current.is_none() {
                        return Err(StoreError::NotLeader(format!(
                            "the lease of epoch {epoch} is no longer this replica's; another replica leads"
                        )));
                    }
                }
                if !new_keys.is_empty() {
                    // Two replicas receiving the same delivery: the second finds its receipt.
                    let inserted = transaction
                        .query_typed(
                            &format!(
                                "INSERT INTO {schema}.records (key, value)
                                 SELECT * FROM unnest($1::bytea[], $2::bytea[])
                                 ON CONFLICT (key) DO NOTHING
                                 RETURNING key"
                            ),
                            &[
                                (&new_keys, Type::BYTEA_ARRAY),
                                (&new_values, Type::BYTEA_ARRAY),
                            ],
                        )
                        .await
                        .map_err(query)?;
                    if inserted.len() < new_keys.len() {
                        return Err(StoreError::Duplicate);
                    }
                }
                if !removed.is_empty() {
                    transaction
                        .query_typed(
                            &format!("DELETE FROM {schema}.records WHERE key = ANY($1)"),
                            &[(&removed, Type::BYTEA_ARRAY)],
                        )
                        .await
                        .map_err(query)?;
                }
                if !keys.is_empty() {
                    transaction
                        .query_typed(
                            &format!(
                                "INSERT INTO {schema}.records (key, value)
                                 SELECT * FROM unnest($1::bytea[], $2::bytea[])
                                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                            ),
                            &[(&keys, Type::BYTEA_ARRAY), (&values, Type::BYTEA_ARRAY)],
                        )
                        .await
                        .map_err(query)?;
                }
                Ok(())
            })
        })
        .await
    }

    pub(super) async fn ids_after(&self, highest: u64) -> Result<(), StoreError> {
        let schema = Arc::clone(&self.schema);
        let highest = i64::try_from(highest).map_err(|_| {
            StoreError::Invalid(format!(
                "an outbox id {highest} is beyond PostgreSQL's bigint"
            ))
        })?;
        self.transaction(move |transaction| {
            Box::pin(async move {
                transaction
                    .query_typed(
                        &format!("SELECT setval('{schema}.ids', greatest($1, (SELECT last_value FROM {schema}.ids)))"),
                        &[(&highest, Type::INT8)],
                    )
                    .await
                    .map_err(query)?;
                Ok(())
            })
        })
        .await
    }

    pub(super) async fn next_ids(&self, count: usize) -> Result<Vec<u64>, StoreError> {
        let schema = Arc::clone(&self.schema);
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        self.transaction(move |transaction| {
            Box::pin(async move {
                let rows = transaction
                    .query_typed(
                        &format!(
                            "SELECT nextval('{schema}.ids') FROM generate_series(1, $1::bigint)"
                        ),
                        &[(&count, Type::INT8)],
                    )
                    .await
                    .map_err(query)?;
                let mut ids: Vec<u64> = rows
                    .iter()
                    .map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
                    .collect();
                // Increasing whatever order the rows came in.
                ids.sort_unstable();
                Ok(ids)
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_modes_are_read_from_the_url() {
        let (url, mode) =
            split_tls_mode("postgres://u:p@db:5432/app?sslmode=verify-full&connect_timeout=3")
                .expect("reads");
        assert_eq!(url, "postgres://u:p@db:5432/app?connect_timeout=3");
        assert_eq!(mode, TlsMode::VerifyFull);
        assert_eq!(
            split_tls_mode("postgresql://db/app").expect("reads").1,
            TlsMode::Prefer
        );
        assert_eq!(
            split_tls_mode("postgres://db/app?sslmode=disable")
                .expect("reads")
                .1,
            TlsMode::Disable
        );
        assert!(split_tls_mode("postgres://db/app?sslmode=verify-ca").is_err());
        assert!(split_tls_mode("mysql://db/app").is_err());
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert_eq!(schema_identifier("pswatch").expect("plain"), "\"pswatch\"");
        for bad in ["", "1st", "Pswatch", "a;drop", "a\"b", &"x".repeat(64)] {
            assert!(schema_identifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn upper_bounds_end_a_prefix() {
        assert_eq!(
            PostgresBackend::upper_bound(b"queue\0"),
            Some(b"queue\x01".to_vec())
        );
        assert_eq!(PostgresBackend::upper_bound(&[1, 0xff]), Some(vec![2]));
        assert_eq!(PostgresBackend::upper_bound(&[0xff, 0xff]), None);
    }
}
