//! What the server's tests share: a real PostgreSQL (`ggzy-pg`) with the
//! server's schema, and the server's API over it on loopback.

#![allow(dead_code)]

pub use ggzy_pg::Postgres;

/// A migrated server database in a fresh cluster, and the server's API on
/// loopback over it: (the cluster, a pool on the database, the API's base URL).
pub async fn server(max_body: usize) -> (Postgres, sqlx::PgPool, String) {
    let pg = Postgres::start();
    let (pool, base) = ggzy_server::start_local(&pg.database("ggzy").await, max_body)
        .await
        .unwrap();
    (pg, pool, base)
}

/// The SMS sender aimed at the fake gateway `gateway` plays (its own HTTP
/// server on loopback, `ggzy-providers`).
pub fn sms_to(gateway: &ggzy_providers::Fake) -> ggzy_dispatch::sms::Gateway {
    let timeout = std::time::Duration::from_secs(2);
    ggzy_dispatch::sms::Gateway::new(
        "短信网关",
        &gateway.url("/sms"),
        "ggzy-test",
        ggzy_providers::SECRET,
        ggzy_dispatch::http::Http::new(timeout, timeout).unwrap(),
    )
}
