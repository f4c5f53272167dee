//! One API client per service token, each spending its own token's budget.
//!
//! PlanetScale's service tokens belong to one organization, and its rate limit counts the
//! requests of each organization's tokens. A `[[watch]]` may name its own token; its requests
//! then pass that token's budget, and the organizations of `[planetscale]`'s token never wait for
//! them. The budgets outlive reloads ([`Budgets`] in the service's long-lived parts): a reload
//! that keeps a token keeps what its window holds.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use poller::{Budget, Client, ClientConfig, RequestObserver};

use crate::config::{ApiToken, Config};
use crate::service::metrics::Metrics;

/// The budget of each service token, by the token's id, and those the running configuration
/// uses, in its order, for the status page and the metrics.
#[derive(Debug, Default)]
pub(crate) struct Budgets {
    by_token: Mutex<BTreeMap<String, Arc<Budget>>>,
    /// The slower kinds' share of each token's budget, by the token's id.
    slower_by_token: Mutex<BTreeMap<String, Arc<Budget>>>,
    shown: Mutex<Vec<BudgetLine>>,
}

/// The share of a token's budget the slower kinds may spend while polls wait for room: a
/// quarter. With room to spare they spend what is spare.
const SLOWER_SHARE: u32 = 4;

/// One token's budget as the status page and the metrics show it.
#[derive(Debug, Clone)]
pub(crate) struct BudgetLine {
    /// `planetscale`, or the organization of the watch that names the token.
    pub(crate) name: String,
    /// The watched organizations whose requests it carries.
    pub(crate) organizations: Vec<String>,
    pub(crate) budget: Arc<Budget>,
}

impl Budgets {
    /// `token`'s budget with `config`'s window: the one it had, its limit changed in place, or a
    /// new one.
    fn of(&self, token: &ApiToken, config: &Config) -> Arc<Budget> {
        Self::kept(&self.by_token, token, token.requests_per_minute, config)
    }

    /// The account of what `token`'s slower kinds spent: a quarter of its limit.
    fn slower_of(&self, token: &ApiToken, config: &Config) -> Arc<Budget> {
        let limit = (token.requests_per_minute / SLOWER_SHARE).max(1);
        Self::kept(&self.slower_by_token, token, limit, config)
    }

    /// `token`'s budget in `budgets`, with `limit` and `config`'s window: the one it had, its
    /// limit changed in place, or a new one.
    fn kept(
        budgets: &Mutex<BTreeMap<String, Arc<Budget>>>,
        token: &ApiToken,
        limit: u32,
        config: &Config,
    ) -> Arc<Budget> {
        let window = config.planetscale.budget_window;
        // A sixtieth longer (a second a minute): a request leaves when its permit is taken and
        // arrives a little later, so without that margin the API could count one request
        // more in its window than pswatch did in its own.
        let window = window + window / 60;
        let mut budgets = lock(budgets);
        let budget = budgets
            .entry(token.token.id().to_owned())
            .or_insert_with(|| Arc::new(Budget::new(limit, window)));
        budget.set_limit(limit, window);
        Arc::clone(budget)
    }

    /// The budgets of the running configuration, `[planetscale]`'s first.
    pub(crate) fn lines(&self) -> Vec<BudgetLine> {
        lock(&self.shown).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A configuration's API clients: one per service token.
#[derive(Debug, Clone)]
pub(crate) struct Clients {
    /// `[planetscale]`'s first, as [`Config::tokens`] orders them.
    clients: Vec<Client>,
    /// What each client's slower kinds spent, in the same order.
    slower: Vec<Arc<Budget>>,
    /// Each client's token's name (`planetscale`, or the watch's organization), in the same
    /// order.
    names: Vec<String>,
    /// Which client reads each organization that has its own token.
    by_organization: BTreeMap<String, usize>,
}

impl Clients {
    /// The clients of `config`'s tokens, through their budgets in `budgets`, telling `metrics`
    /// of every request under the token's name; the budgets become those the status shows.
    pub(crate) fn new(
        config: &Config,
        budgets: &Budgets,
        metrics: Option<&Arc<Metrics>>,
    ) -> anyhow::Result<Self> {
        let tokens = config.tokens();
        let mut clients = Vec::with_capacity(tokens.len());
        let mut slower = Vec::with_capacity(tokens.len());
        let mut lines = Vec::with_capacity(tokens.len());
        let mut by_organization = BTreeMap::new();
        for (index, (token, organizations)) in tokens.into_iter().enumerate() {
            let token = &token;
            let budget = budgets.of(token, config);
            let mut client_config = ClientConfig::new(
                config.planetscale.api_url.clone(),
                token.token.clone(),
                Arc::clone(&budget),
            );
            client_config.timeout = config.planetscale.timeout;
            client_config.observer = metrics.map(|metrics| {
                Arc::new(Counted {
                    metrics: Arc::clone(metrics),
                    token: token.name.clone(),
                }) as Arc<dyn RequestObserver>
            });
            clients.push(Client::new(client_config)?);
            slower.push(budgets.slower_of(token, config));
            for organization in &organizations {
                by_organization.insert(organization.clone(), index);
            }
            lines.push(BudgetLine {
                name: token.name.clone(),
                organizations,
                budget,
            });
        }
        let names = lines.iter().map(|line| line.name.clone()).collect();
        *lock(&budgets.shown) = lines;
        Ok(Self {
            clients,
            slower,
            names,
            by_organization,
        })
    }

    /// The client that reads `organization`: its watch's token, or `[planetscale]`'s.
    pub(crate) fn of(&self, organization: &str) -> &Client {
        &self.clients[self.share(organization)]
    }

    /// The account of what `organization`'s slower kinds spent of its token's budget.
    pub(crate) fn slower(&self, organization: &str) -> &Budget {
        &self.slower[self.share(organization)]
    }

    /// Which budget `organization`'s requests spend, as an index of [`Clients::all`].
    pub(crate) fn share(&self, organization: &str) -> usize {
        self.by_organization.get(organization).copied().unwrap_or(0)
    }

    /// Every client, `[planetscale]`'s first.
    pub(crate) fn all(&self) -> &[Client] {
        &self.clients
    }

    /// The name of each client's token, in the order of [`Clients::all`].
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }
}

/// Counts a token's requests in the metrics under its name.
struct Counted {
    metrics: Arc<Metrics>,
    token: String,
}

impl RequestObserver for Counted {
    fn observed(&self, endpoint: &'static str, status: Option<u16>) {
        self.metrics.api_request(&self.token, endpoint, status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let text = format!(
            "{text}\n[[channels]]\nname = \"console\"\ntype = \"console\"\n\n[[routes]]\nchannels = [\"console\"]\n"
        );
        crate::config::parse(&text, &|name| match name {
            "TOKEN_EU" => Some("pscale_tkn_eu".into()),
            _ => None,
        })
        .expect("valid")
    }

    #[test]
    fn each_token_has_its_budget_and_organizations_follow_their_watch() {
        let config = config(
            r#"
[planetscale]
service_token_id = "main-id"
service_token = "pscale_tkn_main"
requests_per_minute = 300

[[watch]]
organization = "acme"

[[watch]]
organization = "acme-eu"
service_token_id = "eu-id"
service_token = "${TOKEN_EU}"
requests_per_minute = 120

[[watch]]
organization = "acme-labs"
"#,
        );
        let budgets = Budgets::default();
        let clients = Clients::new(&config, &budgets, None).expect("clients");
        assert_eq!(clients.all().len(), 2);
        assert_eq!(clients.share("acme"), 0);
        assert_eq!(clients.share("acme-labs"), 0);
        assert_eq!(clients.share("acme-eu"), 1);
        assert_eq!(clients.of("acme-eu").budget().limit(), 120);
        assert_eq!(clients.of("acme").budget().limit(), 300);
        let lines = budgets.lines();
        assert_eq!(lines[0].name, "planetscale");
        assert_eq!(lines[0].organizations, ["acme", "acme-labs"]);
        assert_eq!(lines[1].name, "acme-eu");
        assert_eq!(lines[1].organizations, ["acme-eu"]);
        // A reload keeps each token's budget, its limit changed in place.
        let budget = Arc::clone(clients.of("acme-eu").budget());
        let reloaded = config_with_eu_limit(60);
        let again = Clients::new(&reloaded, &budgets, None).expect("clients");
        assert!(Arc::ptr_eq(&budget, again.of("acme-eu").budget()));
        assert_eq!(budget.limit(), 60);
    }

    fn config_with_eu_limit(limit: u32) -> Config {
        config(&format!(
            r#"
[planetscale]
service_token_id = "main-id"
service_token = "pscale_tkn_main"

[[watch]]
organization = "acme-eu"
service_token_id = "eu-id"
service_token = "${{TOKEN_EU}}"
requests_per_minute = {limit}
"#
        ))
    }
}
