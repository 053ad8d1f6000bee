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
