//! The loopback SMS gateway as its own process, for benchmarks: a load
//! generator and the dispatcher meet the same server. Prints its address,
//! then serves until killed.

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let fake = ggzy_providers::gateway_at(&addr).await;
    fake.reserve(1 << 20);
    println!("{}", fake.addr);
    std::future::pending::<()>().await;
}
