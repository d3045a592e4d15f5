//! Who asked, from where, and as part of what: stored with every event.

use std::collections::HashMap;

use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// `account:<id>`, `anonymous`, or `system:<job>`.
    pub actor: String,
    pub request_id: String,
    pub client_ip: Option<String>,
    pub correlation_id: String,
    pub causation_id: Option<String>,
}

impl Metadata {
    /// Metadata for work started by the system itself (jobs, benchmarks, demo data).
    pub fn system(job: &str) -> Self {
        let id = Uuid::now_v7().to_string();
        Self {
            actor: format!("system:{job}"),
            request_id: id.clone(),
            client_ip: None,
            correlation_id: id,
            causation_id: None,
        }
    }

    /// The same request acting on behalf of another actor.
    pub fn with_actor(&self, actor: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            ..self.clone()
        }
    }

    pub fn to_map(&self) -> HashMap<String, String> {
        let mut map = HashMap::from([
            ("actor".to_owned(), self.actor.clone()),
            ("request_id".to_owned(), self.request_id.clone()),
            ("correlation_id".to_owned(), self.correlation_id.clone()),
        ]);
        if let Some(ip) = &self.client_ip {
            map.insert("client_ip".to_owned(), ip.clone());
        }
        if let Some(causation) = &self.causation_id {
            map.insert("causation_id".to_owned(), causation.clone());
        }
        map
    }
}
