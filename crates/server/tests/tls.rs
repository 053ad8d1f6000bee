//! With a certificate and key configured the server speaks HTTPS only, and
//! SIGTERM's path (the stop future) lets it finish and return.

mod common;

use ggzy_server::config::Config;

#[tokio::test]
async fn with_a_certificate_the_server_speaks_https_and_stops_when_told() {
    let pg = common::Postgres::start();
    let url = pg.database("ggzy").await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    ggzy_server::MIGRATOR.run(&pool).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = Config {
        database_url: url,
        listen: format!("127.0.0.1:{port}"),
        max_body_bytes: 1 << 20,
        tls: Some((cert_pem, key_pem)),
        center_name: "某市公共资源交易中心".into(),
        dispatch_config: None,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        ggzy_server::serve(pool, &config, async {
            let _ = stopped.await;
        })
        .await
    });

    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let health = format!("https://localhost:{port}/health");
    let mut answer = None;
    for _ in 0..50 {
        match trusting.get(&health).send().await {
            Ok(r) => {
                answer = Some(r.status());
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    assert_eq!(answer, Some(reqwest::StatusCode::OK));
    // Plain HTTP on the same port gets no answer of the API.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/health")).await;
    assert!(plain.map_or(true, |r| !r.status().is_success()));

    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(35), serving)
        .await
        .expect("stops when told")
        .unwrap()
        .unwrap();
}
