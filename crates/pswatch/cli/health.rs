//! `pswatch health`: asks the running service's admin server whether it is ready, for
//! container health checks (the image has no curl).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::config;

/// `http://ADDRESS` of the admin server of `config`, a wildcard address reached on loopback;
/// `None` when it is off.
pub(crate) fn admin_base(config: &config::Config) -> Option<String> {
    let mut address = config.admin_listen?;
    if address.ip().is_unspecified() {
        address.set_ip(if address.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    Some(format!("http://{address}"))
}

/// `pswatch health`: GET `/readyz` of the admin server.
pub(crate) async fn check(config: Option<&Path>, url: Option<String>) -> anyhow::Result<ExitCode> {
    let base = match url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let path = config.context("give -c FILE (or PSWATCH_CONFIG) or --url")?;
            let config = config::load(path, &config::process_environment)?;
            admin_base(&config)
                .context("the admin server is off ([admin] enabled = false): nothing to ask")?
        }
    };
    let client = http_util::client(std::time::Duration::from_secs(5))?;
    match client.get(format!("{base}/readyz")).send().await {
        Ok(response) => {
            let ready = response.status().is_success();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            println!("{base}/readyz: HTTP {status}: {}", body.trim());
            Ok(if ready {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Err(error) => {
            println!(
                "{base}/readyz: {}",
                http_util::error_chain(&error.without_url())
            );
            Ok(ExitCode::from(1))
        }
    }
}
