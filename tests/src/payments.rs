//! Billing helpers: give a user a tier through the admin endpoint, and
//! (below) fake payment providers that send really signed webhooks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use crate::{Browser, TestApp};

const ADMIN_PASSWORD: &str = "Billing-Admin-9";

impl TestApp {
    /// A fresh signed-in admin, whichever password hasher the app runs
    /// (Argon2id or the fake one): each attempt uses its own account.
    pub async fn billing_admin(&self) -> (String, Browser) {
        let hashers: [Arc<dyn commands::ports::PasswordHasher>; 2] = [
            Arc::new(commands::password::FakePasswordHasher),
            Arc::new(commands::password::Argon2Hasher::new(1).unwrap()),
        ];
        for hasher in hashers {
            let tag = &uuid::Uuid::now_v7().simple().to_string()[20..];
            let email = format!("billing-admin-{tag}@example.com");
            let id = adapters::cli::admin::create(
                self.pool(),
                &crate::test_config(),
                hasher,
                &email,
                &format!("badm_{tag}"),
                ADMIN_PASSWORD,
            )
            .await
            .unwrap();
            let response = self.login(&email, ADMIN_PASSWORD).await;
            if response.status() == reqwest::StatusCode::OK {
                let cookie = crate::session_cookie(&response).unwrap();
                let body: serde_json::Value = response.json().await.unwrap();
                return (
                    id.to_string(),
                    Browser {
                        cookie,
                        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
                    },
                );
            }
        }
        panic!("no admin could sign in");
    }

    /// Gives `user_id` a monthly `plan` ("pro" or "premium") through
    /// `POST /api/v1/admin/subscriptions/{id}/grant` as a fresh admin, and
    /// returns the subscription as the endpoint answers it (projected).
    pub async fn grant_plan(&self, user_id: &str, plan: &str) -> serde_json::Value {
        let (_, admin) = self.billing_admin().await;
        self.grant_plan_as(&admin, user_id, plan).await
    }

    /// [`TestApp::grant_plan`] as a given admin.
    pub async fn grant_plan_as(
        &self,
        admin: &Browser,
        user_id: &str,
        plan: &str,
    ) -> serde_json::Value {
        let response = self
            .post_as(
                admin,
                &format!("/api/v1/admin/subscriptions/{user_id}/grant"),
            )
            .json(&serde_json::json!({"plan": plan}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            reqwest::StatusCode::OK,
            "granting {plan}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["tier"], plan, "{body}");
        body
    }
}
